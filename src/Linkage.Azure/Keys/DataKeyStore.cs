using System.Net;
using System.Text.Json.Serialization;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Keys;

[JsonConverter(typeof(JsonStringEnumConverter<DataKeyState>))]
public enum DataKeyState
{
    /// <summary>Used for new work.</summary>
    Active,

    /// <summary>Superseded by a rotation: kept for decryption and re-keying only.</summary>
    Retired,

    /// <summary>Crypto-shredded: the wrapped material is gone; its tokens are unrecoverable.</summary>
    Destroyed,
}

/// <summary>One version of a purpose's data key, as stored: wrapped material and metadata, never the key itself.</summary>
public sealed record DataKeyVersionDocument
{
    public required string Id { get; init; }

    public required string Purpose { get; init; }

    public required int Version { get; init; }

    public required DataKeyState State { get; init; }

    /// <summary>The versioned id of the key-encryption key that wrapped it (Key Vault kid or local:{name}/{version}).</summary>
    public required string KekId { get; init; }

    public required string WrapAlgorithm { get; init; }

    /// <summary>Base64 of the wrapped data key; null once destroyed.</summary>
    public string? WrappedKey { get; init; }

    public required DateTimeOffset Created { get; init; }

    public DateTimeOffset? Retired { get; init; }

    public DateTimeOffset? Destroyed { get; init; }

    public static string IdFor(int version) => $"v{version}";
}

/// <summary>Per purpose: which version is active, the latest version made, and whether the purpose is destroyed.</summary>
public sealed record DataKeyHeadDocument
{
    public const string HeadId = "head";

    public string Id { get; init; } = HeadId;

    public required string Purpose { get; init; }

    public required int ActiveVersion { get; init; }

    public required int LatestVersion { get; init; }

    public required DataKeyState State { get; init; }

    public DateTimeOffset? Destroyed { get; init; }
}

/// <summary>A document and the ETag it was read with (for optimistic concurrency).</summary>
public sealed record Versioned<T>(T Document, string ETag);

/// <summary>
/// Wrapped data keys and their metadata in Cosmos: container <c>keys</c>, partition key <c>/purpose</c>; per purpose one
/// <c>head</c> document and one <c>v{N}</c> document per version. Single-document writes with ETags (If-Match) — no
/// transactional batches, which the local stand-in lacks and the design does not need.
/// </summary>
public sealed class DataKeyStore(Container container)
{
    public const string ContainerName = "keys";
    public const string PartitionKeyPath = "/purpose";

    public static async Task<DataKeyStore> CreateIfNotExistsAsync(Database database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var response = await database.CreateContainerIfNotExistsAsync(
            new ContainerProperties(ContainerName, PartitionKeyPath), cancellationToken: cancellationToken);
        return new DataKeyStore(response.Container);
    }

    public Task<Versioned<DataKeyHeadDocument>?> ReadHeadAsync(string purpose, CancellationToken cancellationToken) =>
        ReadAsync<DataKeyHeadDocument>(purpose, DataKeyHeadDocument.HeadId, cancellationToken);

    public Task<Versioned<DataKeyVersionDocument>?> ReadVersionAsync(string purpose, int version, CancellationToken cancellationToken) =>
        ReadAsync<DataKeyVersionDocument>(purpose, DataKeyVersionDocument.IdFor(version), cancellationToken);

    /// <summary>Creates the document; false when one with that id already exists (409).</summary>
    public Task<bool> TryCreateAsync(DataKeyHeadDocument head, CancellationToken cancellationToken) =>
        TryCreateAsync(head, head.Purpose, cancellationToken);

    public Task<bool> TryCreateAsync(DataKeyVersionDocument version, CancellationToken cancellationToken) =>
        TryCreateAsync(version, version.Purpose, cancellationToken);

    /// <summary>Replaces the document if it still has <paramref name="etag"/>; false when someone changed it first (412).</summary>
    public Task<bool> TryReplaceAsync(DataKeyHeadDocument head, string etag, CancellationToken cancellationToken) =>
        TryReplaceAsync(head, head.Id, head.Purpose, etag, cancellationToken);

    public Task<bool> TryReplaceAsync(DataKeyVersionDocument version, string etag, CancellationToken cancellationToken) =>
        TryReplaceAsync(version, version.Id, version.Purpose, etag, cancellationToken);

    private async Task<Versioned<T>?> ReadAsync<T>(string purpose, string id, CancellationToken cancellationToken)
    {
        try
        {
            var response = await container.ReadItemAsync<T>(id, new PartitionKey(purpose), cancellationToken: cancellationToken);
            return new Versioned<T>(response.Resource, response.ETag);
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<bool> TryCreateAsync<T>(T document, string purpose, CancellationToken cancellationToken)
    {
        try
        {
            await container.CreateItemAsync(document, new PartitionKey(purpose), cancellationToken: cancellationToken);
            return true;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    private async Task<bool> TryReplaceAsync<T>(T document, string id, string purpose, string etag, CancellationToken cancellationToken)
    {
        try
        {
            await container.ReplaceItemAsync(document, id, new PartitionKey(purpose),
                new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken);
            return true;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
    }
}
