using System.Net;
using System.Security.Cryptography;
using System.Text;
using Linkage.Azure.Cosmos;
using Linkage.File2;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Processor;

/// <summary>
/// The curated-dataset catalogue in Cosmos (container <c>tre-catalogue</c>, partition <c>/datasetId</c>): a dataset
/// document, one reservation per delivery and one record per committed version (decision 0603). Readers see a version
/// only through its record, and only in state Curated.
/// </summary>
public sealed class CurationCatalogue(CosmosDatabase database, TimeProvider time)
{
    public const string ContainerId = "tre-catalogue";

    public static string VersionId(int version) => $"v{version:D4}";

    /// <summary>The reservation document's id: a hash of the delivery (dataset, source blob, ETag), so it is the same for every run of it.</summary>
    public static string ReservationId(string datasetId, string sourceBlob, string sourceETag) =>
        "r-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{datasetId}\n{sourceBlob}\n{sourceETag}")))[..40];

    /// <summary>This delivery's reservation, if one was made.</summary>
    public async Task<VersionReservationDocument?> FindReservationAsync(string datasetId, string sourceBlob, string sourceETag, CancellationToken cancellationToken) =>
        await ReadAsync<VersionReservationDocument>(await ContainerAsync(cancellationToken), ReservationId(datasetId, sourceBlob, sourceETag), datasetId, cancellationToken);

    /// <summary>
    /// The version number of this delivery: its existing reservation, or a new one. The number comes from the dataset
    /// document (optimistic update); the reservation is then created, and a 409 means another run of the same delivery
    /// created it first: its number is used, and ours is handed back when nothing was numbered after it.
    /// </summary>
    public async Task<VersionReservationDocument> ReserveAsync(DatasetSpec spec, string sourceBlob, string sourceETag, DateOnly date, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var pk = new PartitionKey(spec.DatasetId);
        string id = ReservationId(spec.DatasetId, sourceBlob, sourceETag);
        if (await ReadAsync<VersionReservationDocument>(container, id, spec.DatasetId, cancellationToken) is { } existing)
        {
            return existing;
        }

        // A version recorded before reservations existed (decision 0602) keeps its number.
        int version = (await FindLegacyRecordAsync(container, spec.DatasetId, sourceBlob, sourceETag, cancellationToken))?.Version ?? 0;
        bool allocated = version == 0;
        if (allocated)
        {
            await container.UpdateAsync<DatasetDocument>("dataset", pk, d =>
            {
                var current = d ?? new DatasetDocument { DatasetId = spec.DatasetId, Title = spec.Title, Owner = spec.Owner, Source = spec.Source };
                version = current.LatestVersion + 1;
                return current with { LatestVersion = version, Title = spec.Title, Owner = spec.Owner, Source = spec.Source };
            }, cancellationToken);
        }

        var reservation = new VersionReservationDocument
        {
            Id = id, DatasetId = spec.DatasetId, SourceBlob = sourceBlob, SourceETag = sourceETag, Version = version, VersionDate = date, ReservedAt = time.GetUtcNow(),
        };
        try
        {
            return (await container.CreateItemAsync(reservation, pk, cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // Another run of this delivery reserved first: one delivery, one version.
            if (allocated)
            {
                int mine = version;
                await container.UpdateAsync<DatasetDocument>("dataset", pk, d => d is { LatestVersion: var latest } && latest == mine ? d with { LatestVersion = mine - 1 } : null, cancellationToken);
            }

            return await ReadAsync<VersionReservationDocument>(container, id, spec.DatasetId, cancellationToken)
                ?? throw new InvalidOperationException($"The reservation {id} of {sourceBlob} conflicted but cannot be read.");
        }
    }

    /// <summary>The committed record of a version, or null when the version does not exist for readers (no record, or not Curated).</summary>
    public async Task<DatasetVersionDocument?> GetVersionAsync(string datasetId, int version, CancellationToken cancellationToken) =>
        await ReadAsync<DatasetVersionDocument>(await ContainerAsync(cancellationToken), VersionId(version), datasetId, cancellationToken) is { State: DatasetVersionState.Curated } v ? v : null;

    /// <summary>The commit step: writes the version's record (state Curated), then notes it on the reservation.</summary>
    public async Task CommitAsync(DatasetVersionDocument record, VersionReservationDocument reservation, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        await container.UpsertItemAsync(record with { State = DatasetVersionState.Curated }, new PartitionKey(record.DatasetId), cancellationToken: cancellationToken);
        await SetReservationStateAsync(container, reservation, DatasetVersionState.Curated, cancellationToken);
    }

    /// <summary>
    /// Marks the reservation of a rejected delivery Rejected, unless its version was committed meanwhile (a committed
    /// version's state belongs to its record). The number stays unused.
    /// </summary>
    public async Task MarkRejectedAsync(VersionReservationDocument reservation, CancellationToken cancellationToken) =>
        await SetReservationStateAsync(await ContainerAsync(cancellationToken), reservation, DatasetVersionState.Rejected, cancellationToken);

    /// <summary>Sets <see cref="DatasetDocument.CurrentVersion"/> to the highest Curated version; returns it.</summary>
    public async Task<int?> RepairCurrentVersionAsync(DatasetSpec spec, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var versions = await VersionsAsync(spec.DatasetId, cancellationToken);
        int? highest = versions.Count > 0 ? versions[^1].Version : null;
        await container.UpdateAsync<DatasetDocument>("dataset", new PartitionKey(spec.DatasetId), d =>
            d is null || d.CurrentVersion == highest ? null : d with { CurrentVersion = highest }, cancellationToken);
        return highest;
    }

    public async Task<DatasetDocument?> GetDatasetAsync(string datasetId, CancellationToken cancellationToken) =>
        await ReadAsync<DatasetDocument>(await ContainerAsync(cancellationToken), "dataset", datasetId, cancellationToken);

    /// <summary>The dataset's versions as readers see them: committed records in state Curated, oldest first.</summary>
    public async Task<IReadOnlyList<DatasetVersionDocument>> VersionsAsync(string datasetId, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE c.datasetId = @d AND STARTSWITH(c.id, 'v')").WithParameter("@d", datasetId);
        var list = await QueryAsync<DatasetVersionDocument>(container, query, datasetId, cancellationToken);
        return list.Where(v => v.State == DatasetVersionState.Curated).OrderBy(v => v.Version).ToList();
    }

    /// <summary>Every reservation of a dataset (operators and tests: which deliveries took which numbers).</summary>
    public async Task<IReadOnlyList<VersionReservationDocument>> ReservationsAsync(string datasetId, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE c.datasetId = @d AND STARTSWITH(c.id, 'r-')").WithParameter("@d", datasetId);
        return (await QueryAsync<VersionReservationDocument>(container, query, datasetId, cancellationToken)).OrderBy(r => r.Version).ToList();
    }

    private static async Task SetReservationStateAsync(Container container, VersionReservationDocument reservation, DatasetVersionState state, CancellationToken cancellationToken) =>
        await container.UpdateAsync<VersionReservationDocument>(reservation.Id, new PartitionKey(reservation.DatasetId), r =>
            r is null || r.State == state || (state == DatasetVersionState.Rejected && r.State == DatasetVersionState.Curated) ? null : r with { State = state }, cancellationToken);

    private static async Task<DatasetVersionDocument?> FindLegacyRecordAsync(Container container, string datasetId, string sourceBlob, string sourceETag, CancellationToken cancellationToken)
    {
        var query = new QueryDefinition("SELECT * FROM c WHERE c.datasetId = @d AND STARTSWITH(c.id, 'v') AND c.sourceBlob = @b AND c.sourceETag = @e")
            .WithParameter("@d", datasetId).WithParameter("@b", sourceBlob).WithParameter("@e", sourceETag);
        return (await QueryAsync<DatasetVersionDocument>(container, query, datasetId, cancellationToken)).MinBy(v => v.Version);
    }

    private static async Task<List<T>> QueryAsync<T>(Container container, QueryDefinition query, string datasetId, CancellationToken cancellationToken)
    {
        var list = new List<T>();
        using var it = container.GetItemQueryIterator<T>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(datasetId) });
        while (it.HasMoreResults)
        {
            list.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return list;
    }

    private static async Task<T?> ReadAsync<T>(Container container, string id, string datasetId, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return (await container.ReadItemAsync<T>(id, new PartitionKey(datasetId), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private Task<Container> ContainerAsync(CancellationToken cancellationToken) => database.ContainerAsync(ContainerId, "/datasetId", cancellationToken);
}
