using Azure.Storage.Blobs;
using Linkage.DevStack;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>A local stack of a test class's own (fresh Azurite and Cosmos state), for tests that use the app's fixed container names.</summary>
public sealed class IsolatedStackFixture : IAsyncLifetime
{
    private LocalStack? _stack;

    public LocalStack Stack => _stack ?? throw new InvalidOperationException("The local stack has not started.");

    public BlobServiceClient CreateBlobServiceClient() => new(Stack.StorageConnectionString);

    public async Task InitializeAsync() => _stack = await LocalStack.StartAsync(new LocalStackOptions(), CancellationToken.None);

    public async Task DisposeAsync()
    {
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }
    }
}
