using System.Net;
using Linkage.Azure.Cosmos;
using Linkage.File2;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Processor;

/// <summary>A dataset in the catalogue (document id <c>dataset</c> in its partition).</summary>
public sealed record DatasetDocument
{
    public string Id { get; init; } = "dataset";

    public required string DatasetId { get; init; }

    public required string Title { get; init; }

    public required string Owner { get; init; }

    public required string Source { get; init; }

    /// <summary>Highest version number handed out (some may still be processing).</summary>
    public int LatestVersion { get; init; }

    /// <summary>The newest curated version researchers get.</summary>
    public int? CurrentVersion { get; init; }
}

/// <summary>One version of a dataset (document id <c>v0001</c>…): what came in, what was kept, and why rows were dropped.</summary>
public sealed record DatasetVersionDocument
{
    public required string Id { get; init; }

    public required string DatasetId { get; init; }

    public required int Version { get; init; }

    /// <summary>Processing, Curated.</summary>
    public required string State { get; init; }

    public required DateOnly VersionDate { get; init; }

    public required string SourceBlob { get; init; }

    public required string SourceETag { get; init; }

    public required string CitationId { get; init; }

    public int VariableCount { get; init; }

    public long ObservationCount { get; init; }

    public long RowsIn { get; init; }

    public long RowsRejected { get; init; }

    public IReadOnlyDictionary<string, long> RowsDropped { get; init; } = new Dictionary<string, long>();

    public long RowsWithGeographyBlanked { get; init; }

    public IReadOnlyList<CuratedVariable> Variables { get; init; } = [];

    public string? DataFile { get; init; }

    public string? RiskReport { get; init; }

    public bool RiskNeedsReview { get; init; }

    public string? IdKeyVersion { get; init; }

    public string? GeographyKeyVersion { get; init; }

    public IReadOnlyList<string> PermissionSnapshots { get; init; } = [];

    public string? SpecSha256 { get; init; }

    public DateTimeOffset? CuratedAt { get; init; }
}

/// <summary>
/// The curated-dataset catalogue in Cosmos (container <c>tre-catalogue</c>, partition <c>/datasetId</c>). Version numbers
/// are handed out with optimistic concurrency on the dataset document, keyed by the source blob version, so a
/// redelivered File 2 gets the version it already had, never a second one.
/// </summary>
public sealed class CurationCatalogue(CosmosDatabase database)
{
    public const string ContainerId = "tre-catalogue";

    public static string VersionId(int version) => $"v{version:D4}";

    /// <summary>The version for this source blob version: the existing one, or the next number, reserved.</summary>
    public async Task<DatasetVersionDocument> ReserveVersionAsync(DatasetSpec spec, string sourceBlob, string sourceETag, DateOnly date, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var pk = new PartitionKey(spec.DatasetId);
        for (int attempt = 0; ; attempt++)
        {
            var existing = await FindBySourceAsync(container, spec.DatasetId, sourceBlob, sourceETag, cancellationToken);
            if (existing is not null)
            {
                return existing;
            }

            DatasetDocument dataset;
            string? etag = null;
            try
            {
                var read = await container.ReadItemAsync<DatasetDocument>("dataset", pk, cancellationToken: cancellationToken);
                dataset = read.Resource;
                etag = read.ETag;
            }
            catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                dataset = new DatasetDocument { DatasetId = spec.DatasetId, Title = spec.Title, Owner = spec.Owner, Source = spec.Source };
            }

            int version = dataset.LatestVersion + 1;
            var reserved = dataset with { LatestVersion = version, Title = spec.Title, Owner = spec.Owner, Source = spec.Source };
            try
            {
                if (etag is null)
                {
                    await container.CreateItemAsync(reserved, pk, cancellationToken: cancellationToken);
                }
                else
                {
                    await container.ReplaceItemAsync(reserved, "dataset", pk, new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken);
                }
            }
            catch (CosmosException e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict && attempt < 10)
            {
                continue; // another delivery took that number: try the next
            }

            var doc = new DatasetVersionDocument
            {
                Id = VersionId(version),
                DatasetId = spec.DatasetId,
                Version = version,
                State = "Processing",
                VersionDate = date,
                SourceBlob = sourceBlob,
                SourceETag = sourceETag,
                CitationId = $"{spec.CitationPrefix}-{version:D2}",
            };
            await container.UpsertItemAsync(doc, pk, cancellationToken: cancellationToken);
            return doc;
        }
    }

    public async Task CompleteAsync(DatasetVersionDocument version, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var pk = new PartitionKey(version.DatasetId);
        await container.UpsertItemAsync(version, pk, cancellationToken: cancellationToken);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var read = await container.ReadItemAsync<DatasetDocument>("dataset", pk, cancellationToken: cancellationToken);
            if (read.Resource.CurrentVersion >= version.Version)
            {
                return;
            }

            try
            {
                await container.ReplaceItemAsync(read.Resource with { CurrentVersion = version.Version }, "dataset", pk, new ItemRequestOptions { IfMatchEtag = read.ETag }, cancellationToken);
                return;
            }
            catch (CosmosException e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
            {
            }
        }
    }

    /// <summary>
    /// Marks a version an earlier attempt reserved (state Processing) as Rejected, when a retry of the same delivery was
    /// rejected: the number stays used, but nobody mistakes it for a curation under way. A redelivery that then succeeds
    /// takes the number back (its reservation finds this document by source).
    /// </summary>
    public async Task MarkRejectedAsync(DatasetVersionDocument reserved, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);

        // Only while it is still Processing: an attempt that finished meanwhile owns the version's state.
        await container.UpdateAsync<DatasetVersionDocument>(
            reserved.Id, new PartitionKey(reserved.DatasetId), v => v is { State: "Processing" } ? v with { State = "Rejected" } : null, cancellationToken);
    }

    public async Task<DatasetDocument?> GetDatasetAsync(string datasetId, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        try
        {
            return (await container.ReadItemAsync<DatasetDocument>("dataset", new PartitionKey(datasetId), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<DatasetVersionDocument>> VersionsAsync(string datasetId, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE c.datasetId = @d AND STARTSWITH(c.id, 'v')").WithParameter("@d", datasetId);
        var list = new List<DatasetVersionDocument>();
        using var it = container.GetItemQueryIterator<DatasetVersionDocument>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(datasetId) });
        while (it.HasMoreResults)
        {
            list.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return list.OrderBy(v => v.Version).ToList();
    }

    /// <summary>The version already made from this source blob version, if any.</summary>
    public async Task<DatasetVersionDocument?> FindBySourceAsync(string datasetId, string sourceBlob, string sourceETag, CancellationToken cancellationToken) =>
        await FindBySourceAsync(await ContainerAsync(cancellationToken), datasetId, sourceBlob, sourceETag, cancellationToken);

    private static async Task<DatasetVersionDocument?> FindBySourceAsync(Container container, string datasetId, string sourceBlob, string sourceETag, CancellationToken cancellationToken)
    {
        var query = new QueryDefinition("SELECT * FROM c WHERE c.datasetId = @d AND c.sourceBlob = @b AND c.sourceETag = @e")
            .WithParameter("@d", datasetId).WithParameter("@b", sourceBlob).WithParameter("@e", sourceETag);
        using var it = container.GetItemQueryIterator<DatasetVersionDocument>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(datasetId) });
        while (it.HasMoreResults)
        {
            foreach (var v in await it.ReadNextAsync(cancellationToken))
            {
                return v;
            }
        }

        return null;
    }

    private Task<Container> ContainerAsync(CancellationToken cancellationToken) => database.ContainerAsync(ContainerId, "/datasetId", cancellationToken);
}
