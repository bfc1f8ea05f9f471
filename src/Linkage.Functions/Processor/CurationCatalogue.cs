using System.Net;
using System.Security.Cryptography;
using System.Text;
using Linkage.Azure.Cosmos;
using Linkage.File2;
using Linkage.Functions.Catalogue;
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

    /// <summary>How long a run waits for the run that created a reservation to number it before numbering it itself.</summary>
    private static readonly TimeSpan NumberWait = TimeSpan.FromSeconds(5);

    public static string VersionId(int version) => $"v{version:D4}";

    /// <summary>The reservation document's id: a hash of the delivery (dataset, source blob, ETag), so it is the same for every run of it.</summary>
    public static string ReservationId(string datasetId, string sourceBlob, string sourceETag) =>
        "r-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{datasetId}\n{sourceBlob}\n{sourceETag}")))[..40];

    /// <summary>This delivery's reservation, if one was made.</summary>
    public async Task<VersionReservationDocument?> FindReservationAsync(string datasetId, string sourceBlob, string sourceETag, CancellationToken cancellationToken) =>
        await ReadAsync<VersionReservationDocument>(await ContainerAsync(cancellationToken), ReservationId(datasetId, sourceBlob, sourceETag), datasetId, cancellationToken);

    /// <summary>
    /// The version number of this delivery: its existing reservation's, or a new one. The reservation is created first
    /// (a 409 means another run of the same delivery created it: one delivery, one reservation); only its creator then
    /// takes the next number from the dataset document and writes it in. A run that finds a reservation without a number
    /// waits for it, and takes one itself only if the creator seems to have died (the loser of that rare race hands its
    /// number back when nothing was numbered after it).
    /// </summary>
    public async Task<VersionReservationDocument> ReserveAsync(DatasetSpec spec, string sourceBlob, string sourceETag, DateOnly date, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var pk = new PartitionKey(spec.DatasetId);
        string id = ReservationId(spec.DatasetId, sourceBlob, sourceETag);
        var reservation = await ReadAsync<VersionReservationDocument>(container, id, spec.DatasetId, cancellationToken);
        bool created = false;
        if (reservation is null)
        {
            // A version recorded before reservations existed (decision 0602) keeps its number and date.
            var legacy = await FindLegacyRecordAsync(container, spec.DatasetId, sourceBlob, sourceETag, cancellationToken);
            reservation = new VersionReservationDocument
            {
                Id = id, DatasetId = spec.DatasetId, SourceBlob = sourceBlob, SourceETag = sourceETag, Version = legacy?.Version ?? 0, VersionDate = legacy?.VersionDate ?? date, ReservedAt = time.GetUtcNow(),
            };
            try
            {
                reservation = (await container.CreateItemAsync(reservation, pk, cancellationToken: cancellationToken)).Resource;
                created = true;
            }
            catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                reservation = null;
            }
        }

        for (var waited = System.Diagnostics.Stopwatch.StartNew(); !created && waited.Elapsed < NumberWait; await Task.Delay(50, cancellationToken))
        {
            reservation = await ReadAsync<VersionReservationDocument>(container, id, spec.DatasetId, cancellationToken);
            if (reservation is { Version: > 0 })
            {
                return reservation;
            }
        }

        if (reservation is { Version: > 0 })
        {
            return reservation;
        }

        int number = 0;
        await container.UpdateAsync<DatasetDocument>("dataset", pk, d =>
        {
            var current = d ?? new DatasetDocument { DatasetId = spec.DatasetId, Title = spec.Title, Owner = spec.Owner, Source = spec.Source };
            number = current.LatestVersion + 1;
            return current with { LatestVersion = number, Title = spec.Title, Owner = spec.Owner, Source = spec.Source };
        }, cancellationToken);
        if (!await container.UpdateAsync<VersionReservationDocument>(id, pk, r => r is { Version: 0 } ? r with { Version = number } : null, cancellationToken))
        {
            await container.UpdateAsync<DatasetDocument>("dataset", pk, d => d is { LatestVersion: var latest } && latest == number ? d with { LatestVersion = number - 1 } : null, cancellationToken);
        }

        return await ReadAsync<VersionReservationDocument>(container, id, spec.DatasetId, cancellationToken) is { Version: > 0 } numbered
            ? numbered
            : throw new InvalidOperationException($"The reservation {id} of {sourceBlob} has no version number.");
    }

    /// <summary>A Curated record of this delivery written before reservations existed (decision 0602), if any.</summary>
    public async Task<DatasetVersionDocument?> FindLegacyCuratedAsync(string datasetId, string sourceBlob, string sourceETag, CancellationToken cancellationToken) =>
        await FindLegacyRecordAsync(await ContainerAsync(cancellationToken), datasetId, sourceBlob, sourceETag, cancellationToken) is { State: DatasetVersionState.Curated } v ? v : null;

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

    /// <summary>Notes on the reservation that its version is committed (repairs a crash between the record and this note).</summary>
    public async Task MarkCuratedAsync(VersionReservationDocument reservation, CancellationToken cancellationToken) =>
        await SetReservationStateAsync(await ContainerAsync(cancellationToken), reservation, DatasetVersionState.Curated, cancellationToken);

    /// <summary>
    /// Marks the reservation of a rejected delivery Rejected, unless its version was committed meanwhile (a committed
    /// version's state belongs to its record). The number stays unused.
    /// </summary>
    public async Task MarkRejectedAsync(VersionReservationDocument reservation, CancellationToken cancellationToken) =>
        await SetReservationStateAsync(await ContainerAsync(cancellationToken), reservation, DatasetVersionState.Rejected, cancellationToken);

    /// <summary>
    /// Sets <see cref="DatasetDocument.CurrentVersion"/> to the highest released version (decision 0605): a committed
    /// version awaiting review, or rejected by it, is never current. Returns it.
    /// </summary>
    public async Task<int?> RepairCurrentVersionAsync(string datasetId, CancellationToken cancellationToken)
    {
        // Two writers (an intake releasing v3, a reviewer releasing v2) may each have read the versions before the other's
        // release: write, then read again, until what is stored is the highest release seen after the write. A release
        // is never withdrawn, so this only ever settles upwards.
        var container = await ContainerAsync(cancellationToken);
        int? highest = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var released = await ReleasedVersionsAsync(datasetId, cancellationToken);
            int? target = released.Count > 0 ? released[^1].Version : null;
            if (attempt > 0 && target == highest)
            {
                break;
            }

            highest = target;
            await container.UpdateAsync<DatasetDocument>("dataset", new PartitionKey(datasetId), d =>
                d is null || d.CurrentVersion == target ? null : d with { CurrentVersion = target }, cancellationToken);
        }

        return highest;
    }

    /// <summary>The released versions, oldest first: what researchers and provisioning may use.</summary>
    public async Task<IReadOnlyList<DatasetVersionDocument>> ReleasedVersionsAsync(string datasetId, CancellationToken cancellationToken) =>
        (await VersionsAsync(datasetId, cancellationToken)).Where(v => v.EffectiveRelease == ReleaseState.Released).ToList();

    /// <summary>The committed record of a version if it is released, else null (provisioning reads only these).</summary>
    public async Task<DatasetVersionDocument?> GetReleasedVersionAsync(string datasetId, int version, CancellationToken cancellationToken) =>
        await GetVersionAsync(datasetId, version, cancellationToken) is { EffectiveRelease: ReleaseState.Released } v ? v : null;

    /// <summary>
    /// Changes a committed version's record with optimistic concurrency (two reviewers at once both count, or one is
    /// refused); <paramref name="change"/> returns null to leave it. Returns the record as stored afterwards.
    /// </summary>
    public async Task<DatasetVersionDocument?> UpdateVersionAsync(string datasetId, int version, Func<DatasetVersionDocument, DatasetVersionDocument?> change, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        await container.UpdateAsync<DatasetVersionDocument>(VersionId(version), new PartitionKey(datasetId), v => v is { State: DatasetVersionState.Curated } ? change(v) : null, cancellationToken);
        return await GetVersionAsync(datasetId, version, cancellationToken);
    }

    /// <summary>Every dataset document (one per partition; a cross-partition query, small: one per dataset).</summary>
    public async Task<IReadOnlyList<DatasetDocument>> DatasetsAsync(CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var list = new List<DatasetDocument>();
        using var it = container.GetItemQueryIterator<DatasetDocument>(new QueryDefinition("SELECT * FROM c WHERE c.id = 'dataset'"));
        while (it.HasMoreResults)
        {
            list.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return list;
    }

    /// <summary>Committed versions awaiting review, across datasets (reviewers' work list).</summary>
    public async Task<IReadOnlyList<DatasetVersionDocument>> AwaitingReviewAsync(CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var list = new List<DatasetVersionDocument>();
        using var it = container.GetItemQueryIterator<DatasetVersionDocument>(new QueryDefinition("SELECT * FROM c WHERE STARTSWITH(c.id, 'v') AND c.state = 'Curated'"));
        while (it.HasMoreResults)
        {
            list.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return list.Where(v => v.EffectiveRelease == ReleaseState.AwaitingReview).OrderBy(v => v.DatasetId, StringComparer.Ordinal).ThenBy(v => v.Version).ToList();
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
