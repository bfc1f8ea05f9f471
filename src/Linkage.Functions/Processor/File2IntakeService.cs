using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;
using Linkage.Functions.Api;
using Linkage.Functions.Catalogue;
using Linkage.Functions.Deliveries;
using Linkage.File2;
using Linkage.Functions.Hosting;
using Linkage.Keys;
using Linkage.Permissions;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Processor;

/// <summary>What one run of File 2 intake did.</summary>
public sealed record File2IntakeResult(string Outcome, DatasetVersionDocument? Version, File2Result? Result, IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Seconds per phase of a curated run: curate (download, check, filter, dedup, and the write-out, which uploads the
    /// curated rows as staged blocks), publish (stage outputs, commit the record, current version), archive (move the delivery).
    /// </summary>
    public IReadOnlyDictionary<string, double> Seconds { get; init; } = new Dictionary<string, double>();
}

/// <summary>
/// The processor's File 2 intake, as its commit protocol (decision 0603): check (and reserve the delivery's version
/// number) → curate (rows into staged, uncommitted blocks) → stage outputs (under the version folder) → commit the
/// catalogue record → publish (current version, archive). Every step is idempotent, so a run stopped anywhere and run
/// again ends as an uninterrupted run would; the version exists for readers only once its record is committed.
/// </summary>
public sealed class File2IntakeService(
    BlobServiceClient blobs,
    DatasetSpecs specs,
    PermissionSnapshotSource permissions,
    CurationCatalogue catalogue,
    DisclosureReview review,
    AuditLog audit,
    KeyRingProvider keys,
    IStepFaults faults,
    IOptions<File2IntakeOptions> options,
    TimeProvider time,
    ILogger<File2IntakeService> logger)
{
    /// <summary>Blob metadata in which a data owner may state the TTP key version of a File 2's tokens.</summary>
    public const string TokenKeyVersionMetadata = "tokenkeyversion";

    /// <summary>Blob metadata naming the token subject of whoever submitted the File 2 (set by the upload tooling): they may not review it.</summary>
    public const string SubmittedByMetadata = "submittedby";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public async Task<File2IntakeResult> ProcessAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        string datasetId = blob.Name.Contains('/', StringComparison.Ordinal) ? blob.Name.Split('/', 2)[0] : "";
        string sourceBlob = $"{ProcessorStorage.File2Inbox}/{blob.Name}";
        if (!specs.TryGet(datasetId, out var spec))
        {
            var problem = $"No dataset spec has id '{datasetId}'. Deliver File 2s as <dataset id>/<file>.csv with one of: {string.Join(", ", specs.All.Select(s => s.DatasetId).Order())}; or add a spec for the new dataset.";
            await QuarantineAsync(blob, etag, [problem], null, cancellationToken);
            return new File2IntakeResult("Rejected", null, null, [problem]);
        }

        // Check. A delivery whose version is committed only has its publication finished (a crash may have come before it).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seconds = new Dictionary<string, double>();
        if (await CommittedVersionAsync(spec, sourceBlob, etag, cancellationToken) is (var reserved, { } done))
        {
            logger.LogInformation("File 2 {Blob} ({ETag}) is already {Dataset} v{Version}; publishing only", blob.Name, etag, spec.DatasetId, done.Version);
            if (reserved is not null)
            {
                await catalogue.MarkCuratedAsync(reserved, cancellationToken);
            }

            await review.RecordAutomaticReleaseAsync(done, cancellationToken);
            await PublishAsync(spec, blob, etag, cancellationToken);
            return new File2IntakeResult("AlreadyCurated", done, null, []);
        }

        // A dataset no UK LLC permission applies to (London SDE, reference data) needs no snapshot, so none can hold it up.
        var snapshots = spec.PermissionChecks == PermissionChecks.None ? PermissionSnapshotSet.Merge([]) : await permissions.LoadLatestAsync(cancellationToken);
        if (spec.PermissionChecks != PermissionChecks.None)
        {
            await CheckTokenKeyVersionAsync(spec, blob, etag, snapshots, cancellationToken);
        }

        var triggeredBy = await TriggeredByAsync(blob, etag, cancellationToken); // read before curation, so its failure costs no curation
        var reservation = await catalogue.ReserveAsync(spec, sourceBlob, etag.ToString(), DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), cancellationToken);
        await faults.ReachedAsync(File2Steps.Checked, cancellationToken);

        // Curate into staged blocks of the version's data blob: nothing is visible until the blob is committed, and a
        // rejected file writes no block.
        var curated = blobs.GetBlobContainerClient(ProcessorStorage.Curated);
        await curated.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        string dataName = ProcessorStorage.DataFile(spec.DatasetId, reservation.Version, reservation.VersionDate);
        await using var data = new AtomicBlobWriter(curated.GetBlockBlobClient(dataName));
        var result = await CurateAsync(spec, snapshots, blob, etag, data, cancellationToken);
        seconds["curate"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        await faults.ReachedAsync(File2Steps.Curated, cancellationToken);
        if (!result.Succeeded)
        {
            await RejectAsync(spec, reservation, blob, etag, result, cancellationToken);
            return new File2IntakeResult("Rejected", null, result, result.Problems);
        }

        HoldIfMostlyUnknown(spec, blob.Name, result);

        // Stage outputs, commit the record, publish.
        clock.Restart();
        var record = await StageOutputsAsync(spec, reservation, result, data, triggeredBy, cancellationToken);
        await faults.ReachedAsync(File2Steps.Staged, cancellationToken);
        await catalogue.CommitAsync(record, reservation, cancellationToken);
        await faults.ReachedAsync(File2Steps.Committed, cancellationToken);
        await review.RecordAutomaticReleaseAsync(record, cancellationToken);
        seconds["publish"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        clock.Restart();
        await PublishAsync(spec, blob, etag, cancellationToken);
        seconds["archive"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        logger.LogInformation(
            "Curated {Dataset} v{Version}: {In} rows in, {Out} kept, {Rejected} rejected, {Dropped} dropped ({Reasons}); {Blank} blank lines skipped; curate {Curate} s, publish {Publish} s, archive {Archive} s",
            spec.DatasetId, record.Version, result.Counts.RowsIn, result.Counts.RowsWritten, result.Counts.RowsRejected, result.Counts.RowsDropped,
            string.Join(", ", result.Counts.Dropped.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}")), result.Statistics.BlankLines,
            seconds["curate"], seconds["publish"], seconds["archive"]);
        return new File2IntakeResult("Curated", record, result, []) { Seconds = seconds };
    }

    /// <summary>
    /// This delivery's reservation and the committed record of its version, if that version was committed for it; for a
    /// delivery curated before reservations existed (decision 0602), its Curated record alone.
    /// </summary>
    private async Task<(VersionReservationDocument? Reservation, DatasetVersionDocument? Record)> CommittedVersionAsync(DatasetSpec spec, string sourceBlob, ETag etag, CancellationToken cancellationToken)
    {
        if (await catalogue.FindReservationAsync(spec.DatasetId, sourceBlob, etag.ToString(), cancellationToken) is not { } r)
        {
            return (null, await catalogue.FindLegacyCuratedAsync(spec.DatasetId, sourceBlob, etag.ToString(), cancellationToken));
        }

        return await catalogue.GetVersionAsync(spec.DatasetId, r.Version, cancellationToken) is { } v && v.SourceBlob == sourceBlob && v.SourceETag == etag.ToString()
            ? (r, v)
            : (r, null);
    }

    /// <summary>
    /// The snapshots must all be under one TTP key version, and under the one the delivery states (blob metadata
    /// <see cref="TokenKeyVersionMetadata"/>) if it states one: otherwise no token would match, and every row would be dropped.
    /// </summary>
    private async Task CheckTokenKeyVersionAsync(DatasetSpec spec, BlobClient blob, ETag etag, PermissionSnapshotSet snapshots, CancellationToken cancellationToken)
    {
        var properties = await blob.GetPropertiesAsync(new BlobRequestConditions { IfMatch = etag }, cancellationToken);
        string? stated = properties.Value.Metadata.TryGetValue(TokenKeyVersionMetadata, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        var held = snapshots.TokenKeyVersions;
        string? problem = held.Count > 1
            ? $"the permission snapshots are under different TTP key versions ({string.Join(", ", held)})"
            : stated is not null && held.Count == 1 && !SameKeyVersion(stated, held[0])
                ? $"its tokens are under TTP key version {stated}, the permission snapshots under {held[0]}"
                : null;
        if (problem is not null)
        {
            throw new TokenKeyVersionMismatchException(
                $"File 2 {blob.Name} for dataset {spec.DatasetId} was not curated: {problem}. Nothing was written. Wait for the TTP to re-issue every study's snapshot under one key version (a new File 1 each), or ask the data owner to re-send the file under the current one; then re-drive it.");
        }
    }

    // Metadata values may not hold '/', so a stated "ttp/v2" may arrive as "ttp_v2".
    private static bool SameKeyVersion(string a, string b) => string.Equals(a.Replace('/', '_'), b.Replace('/', '_'), StringComparison.Ordinal);

    private async Task<File2Result> CurateAsync(DatasetSpec spec, PermissionSnapshotSet snapshots, BlobClient blob, ETag etag, Stream output, CancellationToken cancellationToken)
    {
        using var idCipher = await keys.GetCipherAsync(KeyPurposes.ProcessorId, cancellationToken);
        using var geoCipher = await keys.GetCipherAsync(KeyPurposes.TreGeography, cancellationToken);
        var o = options.Value;
        var pipeline = new File2Pipeline(spec, snapshots, idCipher, geoCipher, new File2PipelineOptions
        {
            MaxRejectShare = o.MaxRejectShare,
            MemoryBudgetMb = o.MemoryBudgetMb,
            TempDirectory = o.TempDirectory,
        });
        await using var input = await PrefetchingBlobReadStream.OpenAsync(blob, etag, cancellationToken: cancellationToken);
        return await pipeline.RunAsync(input, output, cancellationToken);
    }

    /// <summary>Above the bound of unknown participants the file is held (the delivery workflow waits), never published.</summary>
    private void HoldIfMostlyUnknown(DatasetSpec spec, string blobName, File2Result result)
    {
        long unknown = result.Counts.Dropped.GetValueOrDefault(DropReason.UnknownParticipant);
        double share = result.Counts.RowsIn == 0 ? 0 : (double)unknown / result.Counts.RowsIn;
        double bound = options.Value.MaxUnknownParticipantShare;
        if (share > bound)
        {
            logger.LogWarning("File 2 {Blob} held: {Unknown} of {Rows} rows are about people in no permission snapshot (bound {Bound})", blobName, unknown, result.Counts.RowsIn, bound);

            // Short enough for the operator's one-line view of a held delivery (FailureClassifier.Describe keeps 300 characters).
            throw new UnknownParticipantShareException(string.Create(CultureInfo.InvariantCulture,
                $"File 2 of dataset {spec.DatasetId} held: {share * 100:0.0}% of rows ({unknown} of {result.Counts.RowsIn}) are about people in no permission snapshot (bound {bound * 100:0.0}%). Nothing published. Re-drive once the TTP has their File 1s, or raise File2:MaxUnknownParticipantShare."));
        }
    }

    /// <summary>
    /// Writes every output of the version under its folder (data blob committed, risk report, metadata, rejects report):
    /// each write is deterministic for the same delivery, so a retry overwrites with the same bytes. Returns the record to commit.
    /// </summary>
    private async Task<DatasetVersionDocument> StageOutputsAsync(DatasetSpec spec, VersionReservationDocument reservation, File2Result result, AtomicBlobWriter data, IReadOnlyList<string> triggeredBy, CancellationToken cancellationToken)
    {
        var curated = blobs.GetBlobContainerClient(ProcessorStorage.Curated);
        int version = reservation.Version;
        var m = result.Metadata!;
        await data.CommitAsync(new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, new Dictionary<string, string>
        {
            ["dataset"] = spec.DatasetId,
            ["version"] = version.ToString(CultureInfo.InvariantCulture),
            ["idKeyVersion"] = m.IdKeyVersion.Replace('/', '_'),
            ["geographyKeyVersion"] = m.GeographyKeyVersion.Replace('/', '_'),
        }, cancellationToken);

        string riskName = ProcessorStorage.RiskReport(spec.DatasetId, version);
        string metadataName = ProcessorStorage.Metadata(spec.DatasetId, version);
        string rejectsName = ProcessorStorage.RejectReport(spec.DatasetId, version);
        await curated.GetBlobClient(riskName).UploadAsync(BinaryData.FromObjectAsJson(result.Risk, Json), overwrite: true, cancellationToken);
        await curated.GetBlobClient(metadataName).UploadAsync(BinaryData.FromObjectAsJson(m, Json), overwrite: true, cancellationToken);
        if (result.Rejects.Count > 0)
        {
            await curated.GetBlobClient(rejectsName).UploadAsync(
                BinaryData.FromObjectAsJson(new { result.Counts.RowsRejected, result.RejectsTruncated, result.RejectCountsByColumnAndReason, result.Rejects }, Json), overwrite: true, cancellationToken);
        }

        return new DatasetVersionDocument
        {
            Id = CurationCatalogue.VersionId(version),
            DatasetId = spec.DatasetId,
            Version = version,
            State = DatasetVersionState.Curated,
            VersionDate = reservation.VersionDate,
            SourceBlob = reservation.SourceBlob,
            SourceETag = reservation.SourceETag,
            VariableCount = m.VariableCount,
            ObservationCount = m.ObservationCount,
            RowsIn = result.Counts.RowsIn,
            RowsRejected = result.Counts.RowsRejected,
            RowsDropped = result.Counts.Dropped.ToDictionary(d => d.Key.ToString(), d => d.Value),
            RowsWithGeographyBlanked = result.Counts.RowsWithGeographyBlanked,
            Variables = m.Variables,
            DataFile = $"{ProcessorStorage.Curated}/{ProcessorStorage.DataFile(spec.DatasetId, version, reservation.VersionDate)}",
            RiskReport = $"{ProcessorStorage.Curated}/{riskName}",
            MetadataFile = $"{ProcessorStorage.Curated}/{metadataName}",
            RejectReport = result.Rejects.Count > 0 ? $"{ProcessorStorage.Curated}/{rejectsName}" : null,
            RiskNeedsReview = result.Risk!.NeedsReview,
            IdKeyVersion = m.IdKeyVersion,
            GeographyKeyVersion = m.GeographyKeyVersion,
            PermissionSnapshots = m.PermissionSnapshots,
            SpecSha256 = m.SpecSha256,
            CuratedAt = time.GetUtcNow(),
            TriggeredBy = triggeredBy,
            ParticipantCount = result.ParticipantCount,
            TemporalCoverage = result.TemporalCoverage,
            UnexpectedCodes = result.UnexpectedCodes,

            // The review gate (decision 0605): flagged risks wait for reviewers; nothing flagged is released, and recorded as such.
            Release = result.Risk.NeedsReview ? ReleaseState.AwaitingReview : ReleaseState.Released,
            Reviews = result.Risk.NeedsReview ? [] : [new ReviewDecision { Verdict = ReviewVerdict.Automatic, Subject = DisclosureReview.SystemCaller.Subject, Name = DisclosureReview.SystemCaller.Name, At = reservation.ReservedAt ?? time.GetUtcNow(), Notes = "The disclosure-risk report flagged nothing." }],
            ReleasedAt = result.Risk.NeedsReview ? null : time.GetUtcNow(),
        };
    }

    /// <summary>
    /// Who triggered this delivery, and so may not review the version it makes: the submitter the upload named (blob
    /// metadata <see cref="SubmittedByMetadata"/>) and every operator who re-drove it (from the audit log).
    /// </summary>
    private async Task<IReadOnlyList<string>> TriggeredByAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        var subjects = new SortedSet<string>(StringComparer.Ordinal);
        var properties = await blob.GetPropertiesAsync(new BlobRequestConditions { IfMatch = etag }, cancellationToken);
        if (properties.Value.Metadata.TryGetValue(SubmittedByMetadata, out var submitter) && !string.IsNullOrWhiteSpace(submitter))
        {
            subjects.Add(submitter.Trim());
        }

        string deliveryTarget = $"delivery/{new DeliveryRef(ProcessorStorage.File2Inbox, blob.Name, etag.ToString()).Id}";
        foreach (var entry in await audit.ForTargetAsync(deliveryTarget, 1000, cancellationToken))
        {
            if (entry.Action == "deliveries.redrive" && entry.Outcome is "requested" or "succeeded")
            {
                subjects.Add(entry.Subject);
            }
        }

        return [.. subjects];
    }

    /// <summary>Publish: the current version is the highest Curated one (repaired on every run), then the delivery is archived.</summary>
    private async Task PublishAsync(DatasetSpec spec, BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        await catalogue.RepairCurrentVersionAsync(spec.DatasetId, cancellationToken);
        await faults.ReachedAsync(File2Steps.CurrentVersionSet, cancellationToken);
        await MoveAsync(blob, etag, ProcessorStorage.File2Archive, cancellationToken);
    }

    /// <summary>
    /// A rejected file: whatever an interrupted attempt of this delivery staged under the version folder is deleted, the
    /// reservation is marked Rejected (its number stays unused), and the delivery is quarantined with its report.
    /// </summary>
    private async Task RejectAsync(DatasetSpec spec, VersionReservationDocument reservation, BlobClient blob, ETag etag, File2Result result, CancellationToken cancellationToken)
    {
        if (await catalogue.GetVersionAsync(spec.DatasetId, reservation.Version, cancellationToken) is null)
        {
            var curated = blobs.GetBlobContainerClient(ProcessorStorage.Curated);
            await foreach (var staged in curated.GetBlobsAsync(BlobTraits.None, BlobStates.None, ProcessorStorage.VersionFolder(spec.DatasetId, reservation.Version) + "/", cancellationToken))
            {
                await curated.DeleteBlobIfExistsAsync(staged.Name, cancellationToken: cancellationToken);
            }
        }

        await catalogue.MarkRejectedAsync(reservation, cancellationToken);
        await QuarantineAsync(blob, etag, result.Problems, result, cancellationToken);
        logger.LogWarning("Rejected File 2 {Blob} ({Outcome}): {Rejected} bad rows of {Rows}; version number {Version} stays unused", blob.Name, result.Outcome, result.Counts.RowsRejected, result.Counts.RowsIn, reservation.Version);
    }

    private async Task QuarantineAsync(BlobClient blob, ETag etag, IReadOnlyList<string> problems, File2Result? result, CancellationToken cancellationToken)
    {
        var quarantine = blobs.GetBlobContainerClient(ProcessorStorage.File2Quarantine);
        await quarantine.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var report = new
        {
            blob = blob.Name,
            etag = etag.ToString(),
            outcome = result?.Outcome.ToString() ?? "UnknownDataset",
            problems,
            counts = result?.Counts,
            rejectCountsByColumnAndReason = result?.RejectCountsByColumnAndReason,
            rejectsTruncated = result?.RejectsTruncated ?? false,
            rejects = result?.Rejects ?? [],
        };
        // Named after this delivery's quarantined copy, so a later refused delivery of the same name keeps its own report.
        string quarantined = await blob.PlannedNameAsync(etag, quarantine, cancellationToken) ?? blob.Name;
        await quarantine.GetBlobClient(quarantined + ".report.json").UploadAsync(BinaryData.FromObjectAsJson(report, Json), overwrite: true, cancellationToken);
        await MoveAsync(blob, etag, ProcessorStorage.File2Quarantine, cancellationToken);
    }

    private Task MoveAsync(BlobClient blob, ETag etag, string targetContainer, CancellationToken cancellationToken) =>
        blob.MoveToAsync(etag, blobs.GetBlobContainerClient(targetContainer), cancellationToken);
}
