// The real local Azure stack for adapter tests: Azurite (blob, queue, table) and the Cosmos DB NoSQL stand-in,
// started once per test process on free loopback ports (LocalStack.SharedAsync) and stopped when the process exits.
// Set LINKAGE_DEVSTACK_REUSE=1 to attach to a stack already started with
// `dotnet run --project tools/Linkage.DevStack -- up` instead.
//
// Use it like this:
//
//   [Collection(LocalStackCollection.Name)]
//   public class MyAdapterTests(LocalStackFixture stack)
//   {
//       [Fact]
//       public async Task Works()
//       {
//           var container = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("inbox"));
//           var cosmos = await stack.CreateDatabaseAsync();      // a fresh database on the shared CosmosClient
//           ...
//       }
//   }
//
// Every test makes its own uniquely named containers, queues and databases, so tests never see each other's data.
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Linkage.Azure.Cosmos;
using Linkage.DevStack;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Tests.Infrastructure;

/// <summary>The shared local stack plus ready-made clients for it (see the top of this file).</summary>
public sealed class LocalStackFixture : IAsyncLifetime
{
    private LocalStack? _stack;
    private CosmosClient? _cosmos;

    public LocalStack Stack => _stack ?? throw new InvalidOperationException("The local stack has not started.");

    /// <summary>One CosmosClient for all tests, made by the production <see cref="CosmosClientFactory"/>.</summary>
    public CosmosClient CosmosClient => _cosmos ??= CreateCosmosClient();

    /// <summary>A lowercase name, unique per call, valid for blob containers, queues and Cosmos databases/containers.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)].ToLowerInvariant();

    public BlobServiceClient CreateBlobServiceClient() => new(Stack.StorageConnectionString);

    /// <summary>Base64 message encoding, as the Functions queue trigger expects.</summary>
    public QueueServiceClient CreateQueueServiceClient() =>
        new(Stack.StorageConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>A new client (for tests that need their own options); dispose it.</summary>
    public CosmosClient CreateCosmosClient(CosmosConnectionOptions? options = null) =>
        CosmosClientFactory.Create(new Uri(Stack.CosmosEndpoint), Stack.CosmosKey, options);

    /// <summary>A fresh, uniquely named database on <see cref="CosmosClient"/>.</summary>
    public async Task<Database> CreateDatabaseAsync(CancellationToken ct = default)
    {
        var response = await CosmosClient.CreateDatabaseAsync(UniqueName("db"), cancellationToken: ct);
        return response.Database;
    }

    public async Task InitializeAsync() => _stack = await LocalStack.SharedAsync();

    public Task DisposeAsync()
    {
        _cosmos?.Dispose();
        return Task.CompletedTask; // the shared stack stops when the test process exits
    }
}

[CollectionDefinition(Name)]
public sealed class LocalStackCollection : ICollectionFixture<LocalStackFixture>
{
    public const string Name = "LocalStack";
}
