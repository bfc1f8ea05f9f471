using System.Collections.Concurrent;
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
public sealed class CosmosDatabase(CosmosClient client, string databaseName)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Container>>> _containers = new();
    private readonly Lazy<Task<Database>> _database = new(async () => (await client.CreateDatabaseIfNotExistsAsync(databaseName)).Database);

    public CosmosClient Client => client;

    public Task<Container> ContainerAsync(string id, string partitionKeyPath, CancellationToken cancellationToken) =>
        _containers.GetOrAdd(id, _ => new Lazy<Task<Container>>(async () =>
        {
            var db = await _database.Value;
            var response = await db.CreateContainerIfNotExistsAsync(new ContainerProperties(id, partitionKeyPath), cancellationToken: cancellationToken);
            return response.Container;
        })).Value;
}
