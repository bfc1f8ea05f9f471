using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Linkage.DevStack;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// The real local stack (Azurite + the Cosmos stand-in) shared by every test in this assembly; started on free
/// loopback ports on first use and stopped when the run ends.
/// </summary>
public sealed class LocalStackFixture : IAsyncLifetime
{
    private LocalStack? _stack;

    public LocalStack Stack => _stack ?? throw new InvalidOperationException("The local stack has not started.");

    /// <summary>Settings that point the function app at this stack (besides storage).</summary>
    public IReadOnlyDictionary<string, string?> AppSettings => new Dictionary<string, string?>
    {
        ["Cosmos:Endpoint"] = Stack.CosmosEndpoint,
        ["Cosmos:Key"] = Stack.CosmosKey,
    };

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)].ToLowerInvariant();

    public BlobServiceClient CreateBlobServiceClient() => new(Stack.StorageConnectionString);

    public QueueServiceClient CreateQueueServiceClient() =>
        new(Stack.StorageConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public async Task InitializeAsync() => _stack = await LocalStack.SharedAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class LocalStackCollection : ICollectionFixture<LocalStackFixture>
{
    public const string Name = "LocalStack";
}
