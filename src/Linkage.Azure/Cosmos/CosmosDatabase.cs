using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Cosmos;

/// <summary>Settings of the Cosmos DB account the app keeps its state in (section <c>Cosmos</c>).</summary>
public sealed class CosmosOptions
{
    public const string SectionName = "Cosmos";

    public Uri? Endpoint { get; set; }

    /// <summary>Account key (local stack); empty in Azure, where the managed identity is used.</summary>
    public string? Key { get; set; }

    public string Database { get; set; } = "linkage";
}

/// <summary>
/// The app's Cosmos database: containers are created on first use with the partition key the real service is designed
/// for (study, project, dataset, workflow instance), then cached.
/// </summary>
/// <remarks>
/// The caches retry: a creation that failed (Cosmos unreachable, throttled) or timed out is not kept, so the next call
/// tries again instead of failing until the app restarts; a caller's cancellation stops only its own wait.
/// </remarks>
public sealed class CosmosDatabase(CosmosClient client, string databaseName, TimeSpan? initialisationTimeout = null) : IDisposable
{
    private readonly RecoverableAsyncLazy<Database> _database = new(
        async ct => (await client.CreateDatabaseIfNotExistsAsync(databaseName, cancellationToken: ct)).Database,
        initialisationTimeout ?? RecoverableAsyncLazy<Database>.DefaultTimeout);

    private readonly RecoverableAsyncCache<(string Id, string PartitionKeyPath), Container> _containers =
        new(initialisationTimeout ?? RecoverableAsyncLazy<Container>.DefaultTimeout);

    public CosmosClient Client => client;

    public Task<Container> ContainerAsync(string id, string partitionKeyPath, CancellationToken cancellationToken) =>
        _containers.GetAsync((id, partitionKeyPath), CreateContainerAsync, cancellationToken);

    /// <summary>Stops creations still running; the client is not this object's to dispose.</summary>
    public void Dispose()
    {
        _containers.Dispose();
        _database.Dispose();
    }

    private async Task<Container> CreateContainerAsync((string Id, string PartitionKeyPath) key, CancellationToken cancellationToken)
    {
        var db = await _database.GetAsync(cancellationToken);
        var response = await db.CreateContainerIfNotExistsAsync(new ContainerProperties(key.Id, key.PartitionKeyPath), cancellationToken: cancellationToken);
        return response.Container;
    }
}
