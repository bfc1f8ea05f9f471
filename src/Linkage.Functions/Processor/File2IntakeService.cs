using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;
using Linkage.File2;
using Linkage.Functions.Hosting;
using Linkage.Keys;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Processor;

/// <summary>What one run of File 2 intake did.</summary>
public sealed record File2IntakeResult(string Outcome, DatasetVersionDocument? Version, File2Result? Result, IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Seconds per phase of a curated run: curate (download, check, filter, dedup, and the write-out, which uploads the
    /// curated rows as staged blocks), publish (commit, reports, catalogue), archive (move the delivery).
    /// </summary>
    public IReadOnlyDictionary<string, double> Seconds { get; init; } = new Dictionary<string, double>();
}

/// <summary>
/// The processor's File 2 intake: curates a delivery against its dataset spec (re-encrypting ids, encrypting
/// geographies, applying permissions and variable rules, deduplicating), and publishes it as a new catalogue version with
/// its disclosure-risk report — or quarantines it with a report, taking no version number. The curated rows are uploaded
/// as staged blocks of the version's blob and committed in one call only for a curated result, so a crash leaves nothing
/// half-written visible; a redelivered blob version gets the version it already had.
/// </summary>
public sealed class File2IntakeService(
    BlobServiceClient blobs,
    DatasetSpecs specs,
    PermissionSnapshotSource permissions,
    CurationCatalogue catalogue,
    KeyRingProvider keys,
    IOptions<File2IntakeOptions> options,
    TimeProvider time,
    ILogger<File2IntakeService> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public async Task<File2IntakeResult> ProcessAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        string datasetId = blob.Name.Contains('/', StringComparison.Ordinal) ? blob.Name.Split('/', 2)[0] : "";
        string sourceBlob = $"{ProcessorStorage.File2Inbox}/{blob.Name}";
        if (!specs.TryGet(datasetId, out var spec))
        {
            var problem = $"No dataset spec has id '{datasetId}'. Deliver File 2s as <dataset id>/<file>.csv with one of: {string.Join(", ", specs.All.Select(s => s.DatasetId).Order())}; or add a spec for the new dataset.";
            await RejectAsync(blob, etag, [problem], null, cancellationToken);
            return new File2IntakeResult("Rejected", null, null, [problem]);
        }

        var done = await catalogue.FindBySourceAsync(spec.DatasetId, sourceBlob, etag.ToString(), cancellationToken);
        if (done is { State: "Curated" })
        {
            logger.LogInformation("File 2 {Blob} ({ETag}) is already {Dataset} v{Version}; nothing to do", blob.Name, etag, spec.DatasetId, done.Version);
            await MoveAsync(blob, etag, ProcessorStorage.File2Archive, cancellationToken);
            return new File2IntakeResult("AlreadyCurated", done, null, []);
        }

        using var idCipher = await keys.GetCipherAsync(KeyPurposes.ProcessorId, cancellationToken);
        using var geoCipher = await keys.GetCipherAsync(KeyPurposes.TreGeography, cancellationToken);
        var snapshots = await permissions.LoadLatestAsync(cancellationToken);
        var o = options.Value;
        var pipeline = new File2Pipeline(spec, snapshots, idCipher, geoCipher, new File2PipelineOptions
        {
            MaxRejectShare = o.MaxRejectShare,
            MemoryBudgetMb = o.MemoryBudgetMb,
            TempDirectory = o.TempDirectory,
        });

        // The curated rows go straight into staged blocks of the version's data blob while they are written: nothing
        // is visible until the commit, which happens only for a curated file. The version is reserved (and the blob
        // opened) only once the file has passed every check, so a rejected file takes no version number.
        var curated = blobs.GetBlobContainerClient(ProcessorStorage.Curated);
        await curated.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        DatasetVersionDocument? version = null;
        AtomicBlobWriter? data = null;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var seconds = new Dictionary<string, double>();
            File2Result result;
            await using (var input = await PrefetchingBlobReadStream.OpenAsync(blob, etag, cancellationToken: cancellationToken))
            {
                result = await pipeline.RunAsync(input, async ct =>
                {
                    var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
                    version = await catalogue.ReserveVersionAsync(spec, sourceBlob, etag.ToString(), today, ct);
                    if (version.State == "Curated")
                    {
                        // A redelivered trigger for this blob version finished first: never write over a published file.
                        // The retry finds the version curated and only archives the delivery.
                        throw new InvalidOperationException($"{sourceBlob} ({etag}) was curated as {spec.DatasetId} v{version.Version} while this run was under way; nothing more is written.");
                    }

                    data = new AtomicBlobWriter(curated.GetBlockBlobClient(ProcessorStorage.DataFile(spec.DatasetId, version.Version, version.VersionDate)));
                    return data;
                }, cancellationToken);
            }

            seconds["curate"] = Math.Round(clock.Elapsed.TotalSeconds, 3);

            if (!result.Succeeded)
            {
                if (await catalogue.FindBySourceAsync(spec.DatasetId, sourceBlob, etag.ToString(), cancellationToken) is { State: "Processing" } interrupted)
                {
                    // An earlier attempt passed the checks and reserved a number, then failed; since then the spec, the
                    // permissions or the opt-out list changed, and this attempt was rejected.
                    await catalogue.MarkRejectedAsync(interrupted, cancellationToken);
                }

                await RejectAsync(blob, etag, result.Problems, result, cancellationToken);
                logger.LogWarning("Rejected File 2 {Blob} ({Outcome}): {Rejected} bad rows of {Rows}", blob.Name, result.Outcome, result.Counts.RowsRejected, result.Counts.RowsIn);
                return new File2IntakeResult("Rejected", null, result, result.Problems);
            }

            clock.Restart();
            var published = await PublishAsync(spec, version!, result, data!, cancellationToken);
            await catalogue.CompleteAsync(published, cancellationToken);
            seconds["publish"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            clock.Restart();
            await MoveAsync(blob, etag, ProcessorStorage.File2Archive, cancellationToken);
            seconds["archive"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            logger.LogInformation(
                "Curated {Dataset} v{Version}: {In} rows in, {Out} kept, {Rejected} rejected, {Dropped} dropped ({Reasons}); {Blank} blank lines skipped; curate {Curate} s, publish {Publish} s, archive {Archive} s",
                spec.DatasetId, published.Version, result.Counts.RowsIn, result.Counts.RowsWritten, result.Counts.RowsRejected, result.Counts.RowsDropped,
                string.Join(", ", result.Counts.Dropped.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}")), result.Statistics.BlankLines,
                seconds["curate"], seconds["publish"], seconds["archive"]);
            return new File2IntakeResult("Curated", published, result, []) { Seconds = seconds };
        }
        finally
        {
            if (data is not null)
            {
                await data.DisposeAsync(); // uncommitted blocks of a failed run are never visible
            }
        }
    }

    private async Task<DatasetVersionDocument> PublishAsync(DatasetSpec spec, DatasetVersionDocument version, File2Result result, AtomicBlobWriter data, CancellationToken cancellationToken)
    {
        var curated = blobs.GetBlobContainerClient(ProcessorStorage.Curated);
        string dataName = ProcessorStorage.DataFile(spec.DatasetId, version.Version, version.VersionDate);
        await data.CommitAsync(new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, new Dictionary<string, string>
        {
            ["dataset"] = spec.DatasetId,
            ["version"] = version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["idKeyVersion"] = result.Metadata!.IdKeyVersion.Replace('/', '_'),
            ["geographyKeyVersion"] = result.Metadata.GeographyKeyVersion.Replace('/', '_'),
        }, cancellationToken);

        string riskName = ProcessorStorage.RiskReport(spec.DatasetId, version.Version);
        await curated.GetBlobClient(riskName).UploadAsync(BinaryData.FromObjectAsJson(result.Risk, Json), overwrite: true, cancellationToken);
        await curated.GetBlobClient(ProcessorStorage.Metadata(spec.DatasetId, version.Version)).UploadAsync(BinaryData.FromObjectAsJson(result.Metadata, Json), overwrite: true, cancellationToken);
        if (result.Rejects.Count > 0)
        {
            await curated.GetBlobClient(ProcessorStorage.RejectReport(spec.DatasetId, version.Version)).UploadAsync(
                BinaryData.FromObjectAsJson(new { result.Counts.RowsRejected, result.RejectsTruncated, result.RejectCountsByColumnAndReason, result.Rejects }, Json), overwrite: true, cancellationToken);
        }

        var m = result.Metadata;
        return version with
        {
            State = "Curated",
            VariableCount = m.VariableCount,
            ObservationCount = m.ObservationCount,
            RowsIn = result.Counts.RowsIn,
            RowsRejected = result.Counts.RowsRejected,
            RowsDropped = result.Counts.Dropped.ToDictionary(d => d.Key.ToString(), d => d.Value),
            RowsWithGeographyBlanked = result.Counts.RowsWithGeographyBlanked,
            Variables = m.Variables,
            DataFile = $"{ProcessorStorage.Curated}/{dataName}",
            RiskReport = $"{ProcessorStorage.Curated}/{riskName}",
            RiskNeedsReview = result.Risk!.NeedsReview,
            IdKeyVersion = m.IdKeyVersion,
            GeographyKeyVersion = m.GeographyKeyVersion,
            PermissionSnapshots = m.PermissionSnapshots,
            SpecSha256 = m.SpecSha256,
            CuratedAt = time.GetUtcNow(),
        };
    }

    private async Task RejectAsync(BlobClient blob, ETag etag, IReadOnlyList<string> problems, File2Result? result, CancellationToken cancellationToken)
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
        await quarantine.GetBlobClient(blob.Name + ".report.json").UploadAsync(BinaryData.FromObjectAsJson(report, Json), overwrite: true, cancellationToken);
        await MoveAsync(blob, etag, ProcessorStorage.File2Quarantine, cancellationToken);
    }

    private Task MoveAsync(BlobClient blob, ETag etag, string targetContainer, CancellationToken cancellationToken) =>
        blob.MoveToAsync(etag, blobs.GetBlobContainerClient(targetContainer), cancellationToken);
}
