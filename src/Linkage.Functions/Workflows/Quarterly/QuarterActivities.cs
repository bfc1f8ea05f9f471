using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;
using Linkage.Functions.Hosting;
using Linkage.Functions.Ttp;
using Linkage.Ttp;

namespace Linkage.Functions.Workflows.Quarterly;

/// <summary>
/// The quarterly cycle's activities (TTP zone). Each is idempotent (activities run at least once): reads, reminders
/// under deterministic names, a manifest that is the delivery's commit point and is never rewritten, a report upserted
/// under the instance id.
/// </summary>
public sealed class QuarterActivities(
    File1VersionStore versions,
    NationalOptOutSource optOutSource,
    StudyManifestPublisher manifests,
    WorkflowReportStore reports,
    BlobServiceClient blobs,
    Deliveries.DeliveryStore deliveries,
    Microsoft.Extensions.Options.IOptions<File1IntakeOptions> file1,
    OptOutReapplier reapplier,
    IStepFaults faults,
    ILogger<QuarterActivities> logger)
{
    public const string Studies = "QuarterStudies";
    public const string Remind = "RemindQuarterStudies";
    public const string CheckOptOutList = "CheckQuarterOptOutList";
    public const string ReapplyOptOutList = "ReapplyQuarterOptOutList";
    public const string PublishSnapshots = "PublishQuarterSnapshots";
    public const string WriteDelivery = "WriteQuarterDelivery";
    public const string SaveReport = "SaveQuarterReport";
    public const string HeldDeliveries = "QuarterHeldDeliveries";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Each active study's File 1 in the quarter (accepted since it opened, or only rejected ones), or none.</summary>
    public async Task<List<StudyQuarter>> StudiesAsync(QuarterStudiesQuery query, CancellationToken cancellationToken)
    {
        var result = new List<StudyQuarter>();
        var opens = new DateTimeOffset(DateTime.SpecifyKind(query.Request.OpensAt, DateTimeKind.Utc));
        var skips = await SkipsAsync(query.InstanceId, cancellationToken);
        foreach (var study in query.Request.Studies)
        {
            var records = await versions.AllAsync(study, cancellationToken);
            var accepted = records.Where(r => r.State == File1VersionState.Accepted && r.Version is not null).ToList();
            // Every accepted version newer than what an earlier quarter delivered (late files, held ones, two in a quarter),
            // and the delivered one when a corrected file was re-sent under its name since; before any delivery of the
            // study, those accepted since this quarter opened.
            int delivered = query.Request.Delivered.GetValueOrDefault(study);
            int deliveredRevision = query.Request.DeliveredRevisions.GetValueOrDefault(study);
            var pending = accepted.Where(r => (r.Version > delivered && (delivered > 0 || r.ProcessedAt >= opens))
                || (r.Version == delivered && r.AllRevisions().Any(x => x.Revision > deliveredRevision && x.Cycle is null))).OrderBy(r => r.Version).ToList();
            var previous = accepted.MaxBy(r => r.Version);
            var rejected = records.LastOrDefault(r => r.State == File1VersionState.Rejected && r.ProcessedAt >= opens);
            var skipped = skips.FirstOrDefault(s => s.Study == study);
            if (pending.Count > 0)
            {
                var newest = pending[^1];
                long s251 = pending.Any(r => S251Of(r) < 0) ? -1 : pending.Max(S251Of);
                var changes = pending.SelectMany(ChangesOf).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
                result.Add(new StudyQuarter(study, StudyQuarterState.Accepted, newest.Version, newest.Participants, s251, null, changes, null) { Versions = pending.Select(r => r.Version!.Value).ToList() });
            }
            else
            {
                var state = skipped is not null ? StudyQuarterState.Skipped : rejected is not null ? StudyQuarterState.Rejected : StudyQuarterState.NotDelivered;
                result.Add(new StudyQuarter(
                    study, state, previous?.Version, previous?.Participants ?? 0, previous is null ? 0 : S251Of(previous),
                    rejected?.Id, new Dictionary<string, long>(), skipped?.By) { SkipReason = skipped?.Reason });
            }
        }

        return result;
    }

    /// <summary>A note in each late study's area (<c>ttp-provider-reports/&lt;STUDY&gt;/reminders/</c>), one name per reminder so a re-run overwrites it.</summary>
    public async Task RemindAsync(QuarterReminder reminder, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(TtpStorage.ProviderReports);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        foreach (var study in reminder.Studies)
        {
            string text = $"""
                Study {study}: no File 1 has been accepted for {reminder.Label} yet. Please deliver it by {reminder.Deadline:yyyy-MM-dd} as {TtpStorage.File1Inbox}/{study}/{study}_FILE1_v<N>_<YYYYMMDD>.csv.
                Each quarter's File 1 carries the next version number: an accepted file sent again unchanged does not count.
                If a file was rejected, its report is in this area beside it. Reminder {reminder.Number}.

                """;
            await container.GetBlobClient(ReminderName(study, reminder.Label, reminder.Number)).UploadAsync(BinaryData.FromString(text), overwrite: true, cancellationToken);
        }

        logger.LogInformation("Quarter {Quarter}: reminder {Number} written to {Count} studies without an accepted File 1 ({Studies})", reminder.Label, reminder.Number, reminder.Studies.Count, string.Join(", ", reminder.Studies));
    }

    public static string ReminderName(string study, string label, int number) => $"{study}/reminders/quarter-{label}-{number:D3}.txt";

    public async Task<OptOutListCheck> CheckOptOutListAsync(string label, CancellationToken cancellationToken)
    {
        var state = await optOutSource.LoadAsync(cancellationToken);
        if (state.List is null)
        {
            logger.LogWarning("Quarter {Quarter}: the national opt-out list cannot be used ({Reason}); s251 studies' NHS England files are held", label, state.Unusable);
            return new OptOutListCheck(false, state.Unusable, null, 0);
        }

        return new OptOutListCheck(true, null, null, state.List.Count);
    }

    /// <summary>Re-applies the current national opt-out list to the study's newest File 1 (a new revision when anyone's opt-out changed).</summary>
    public Task<OptOutReapplied> ReapplyOptOutListAsync(QuarterReapply reapply, CancellationToken cancellationToken) =>
        reapplier.ReapplyAsync(reapply.Study, reapply.Label, cancellationToken);

    /// <summary>Makes sure each study's processor manifest names its newest accepted File 1 (publishing it when not); returns how many now do.</summary>
    public async Task<int> PublishSnapshotsAsync(IReadOnlyList<string> studies, CancellationToken cancellationToken)
    {
        int inForce = 0;
        foreach (var study in studies)
        {
            if ((await versions.AcceptedAsync(study, cancellationToken)).LastOrDefault(r => r.State == File1VersionState.Accepted) is not { } newest)
            {
                continue;
            }

            var (version, revision) = await manifests.InForceAsync(study, cancellationToken);
            if (version > newest.Version || (version == newest.Version && revision >= newest.Revision) || await manifests.PublishAsync(newest, cancellationToken))
            {
                inForce++;
            }
        }

        return inForce;
    }

    /// <summary>
    /// The quarter's delivery to NHS England in <c>ttp-outbox-nhse/quarters/&lt;YYYY&gt;-Q&lt;n&gt;/</c>: one delta (the
    /// accepted studies' deltas, which carry only what NHS England acts on), the NHS Outputs of those File 1s, and the
    /// manifest listing each with length and SHA-256 — written last, once: it is the commit point, and a re-run finds it.
    /// </summary>
    public async Task<QuarterDelivery> WriteDeliveryAsync(QuarterDeliveryRequest request, CancellationToken cancellationToken)
    {
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        await outbox.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var manifestBlob = outbox.GetBlobClient(ManifestName(request.Label));
        if (await ReadDeliveryAsync(manifestBlob, cancellationToken) is { } existing)
        {
            return existing with { Held = request.Held };
        }

        // What earlier quarters' committed manifests delivered, per study: never sent twice, whatever the cycle was told.
        var sent = await DeliveredAsync(outbox, request.Label, cancellationToken);
        var files = new List<QuarterFile>();
        var carried = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
        var carriedRevisions = new Dictionary<string, int>(StringComparer.Ordinal);
        long deltaRows = 0;
        string deltaName = $"quarters/{request.Label}/NHSE_DELTA_{request.Label.Replace("-", "", StringComparison.Ordinal)}.csv";
        await using (var writer = new AtomicBlobWriter(outbox.GetBlockBlobClient(deltaName), computeSha256: true))
        {
            await writer.WriteAsync(Encoding.UTF8.GetBytes(string.Join(',', TtpOutputFormats.DeltaColumns) + "\n"), cancellationToken);
            var accepted = request.Accepted.ToDictionary(s => s.Study, StringComparer.Ordinal);
            foreach (var study in accepted.Keys.Union(request.Revised, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var (sentVersion, sentRevision) = sent.GetValueOrDefault(study, (0, 0));
                var versionsDue = await VersionsDueAsync(study, accepted.GetValueOrDefault(study), sentVersion, cancellationToken);
                File1VersionRecord? newest = null;
                var deliveredVersions = new List<int>();
                foreach (var record in versionsDue)
                {
                    // Each revision's delta in order: the File 1 as delivered (when not sent yet), then each re-application of a
                    // newer list. A version the quarter does not deliver (accepted before the study's first delivery) sends only
                    // what this cycle's re-application changed.
                    bool versionDue = accepted.GetValueOrDefault(study) is { } a && (a.Versions.Count > 0 ? a.Versions.Contains(record.Version!.Value) : a.Version == record.Version);
                    var revisions = record.AllRevisions().Where(r => record.Version > sentVersion
                        ? versionDue || r.Cycle == request.Label
                        : r.Revision > sentRevision).ToList();
                    foreach (var revision in revisions)
                    {
                        // Recorded names are "<container>/<blob>"; both files are in the NHS England outbox.
                        deltaRows += await AppendWithoutHeaderAsync(outbox.GetBlobClient(File1OutputWriter.BlobName(revision.Files[File1OutputWriter.Keys.Delta].Name)), writer, cancellationToken);
                    }

                    if (revisions.Count > 0)
                    {
                        newest = record;
                        deliveredVersions.Add(record.Version!.Value);
                    }
                }

                if (newest is null)
                {
                    continue;
                }

                // The newest NHS Output (of the newest revision) is the full current list: the one NHS England needs.
                var nhs = newest.Files[File1OutputWriter.Keys.NhsOutput];
                files.Add(new QuarterFile(File1OutputWriter.BlobName(nhs.Name), "nhsOutput", study, newest.Version, nhs.Length, nhs.Sha256));
                carried[study] = deliveredVersions;
                carriedRevisions[study] = newest.Revision;
            }

            await writer.CommitAsync(new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, cancellationToken: cancellationToken);
            files.Insert(0, new QuarterFile(deltaName, "delta", null, null, writer.Length, writer.Sha256));
        }

        await faults.ReachedAsync(WorkflowSteps.QuarterDeltaCommitted, cancellationToken);

        var delivery = new QuarterDelivery(manifestBlob.Name, files, deltaRows, []) { Versions = carried, Revisions = carriedRevisions }; // NHS England is not told who is held
        try
        {
            await manifestBlob.UploadAsync(BinaryData.FromObjectAsJson(delivery, Json), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All }, // written once: a quarter has one delivery
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return (await ReadDeliveryAsync(manifestBlob, cancellationToken) ?? throw new InvalidOperationException($"{manifestBlob.Name} exists but cannot be read.", e)) with { Held = request.Held };
        }

        delivery = delivery with { Held = request.Held };
        logger.LogInformation("Quarter {Quarter}: delivery to NHS England committed ({Files} files, {DeltaRows} delta rows, {Held} studies held)", request.Label, files.Count, deltaRows, request.Held.Count);
        await faults.ReachedAsync(WorkflowSteps.QuarterManifestWritten, cancellationToken);
        return delivery;
    }

    /// <summary>Stores an operator's skip of a study in a cycle: one document per cycle and study, created once (the first reason stays, also when two race).</summary>
    public Task<bool> RecordSkipAsync(string instanceId, SkipStudy skip, DateTimeOffset at, CancellationToken cancellationToken) =>
        reports.CreateAsync(SkipPartition(instanceId), skip.Study, at, skip, cancellationToken);

    private async Task<List<SkipStudy>> SkipsAsync(string instanceId, CancellationToken cancellationToken) =>
        (await reports.ListAsync(SkipPartition(instanceId), cancellationToken)).Select(d => d.Report.Deserialize<SkipStudy>()!).ToList();

    private static string SkipPartition(string instanceId) => $"skips:{instanceId}";

    /// <summary>File 1 deliveries held for an operator (at most 1,000, newest first): ids, study folders and failure classes only.</summary>
    public async Task<List<HeldFile1Delivery>> HeldDeliveriesAsync(CancellationToken cancellationToken) =>
        (await deliveries.ListAsync(Deliveries.DeliveryState.Held, 1000, cancellationToken))
            .Where(d => d.Inbox == TtpStorage.File1Inbox)
            .Select(d => new HeldFile1Delivery(d.Id, KnownStudyOf(d.BlobName), d.LastErrorClass.ToString(), d.HeldAt))
            .ToList();

    public static string ManifestName(string label) => $"quarters/{label}/manifest.json";

    /// <summary>The folder of a delivery's blob name when it is a known study code; otherwise "(unknown)" (a folder is typed by the uploader).</summary>
    private string KnownStudyOf(string blobName)
    {
        string folder = blobName.Contains('/', StringComparison.Ordinal) ? blobName.Split('/', 2)[0] : "";
        return file1.Value.KnownStudyCodes.Contains(folder, StringComparer.Ordinal) ? folder : "(unknown)";
    }

    /// <summary>
    /// The study's File 1 records whose deltas may be due, oldest first: the versions the quarter accepted, and the newest
    /// version when it was already sent (a revision of it may not have been).
    /// </summary>
    private async Task<List<File1VersionRecord>> VersionsDueAsync(string study, StudyQuarter? accepted, int sentVersion, CancellationToken cancellationToken)
    {
        var wanted = new SortedSet<int>(accepted is null ? [] : accepted.Versions.Count > 0 ? accepted.Versions : [accepted.Version!.Value]);
        var committed = await versions.AcceptedAsync(study, cancellationToken);
        if (committed.Count > 0 && committed[^1].Version is { } newest && newest >= sentVersion)
        {
            wanted.Add(newest);
        }

        var records = new List<File1VersionRecord>();
        foreach (int version in wanted.Where(v => v >= sentVersion && v > 0))
        {
            records.Add(await versions.GetAsync(study, File1VersionStore.IdFor(study, version), cancellationToken)
                ?? throw new InvalidOperationException($"Study {study} has no record of File 1 version {version}."));
        }

        return records;
    }

    /// <summary>
    /// Per study, the newest File 1 version whose delta an earlier quarter's committed manifest carried, and the revision
    /// of it up to which it did (0 for manifests written before revisions: they carried the File 1 as delivered).
    /// </summary>
    private static async Task<Dictionary<string, (int Version, int Revision)>> DeliveredAsync(BlobContainerClient outbox, string label, CancellationToken cancellationToken)
    {
        var sent = new Dictionary<string, (int Version, int Revision)>(StringComparer.Ordinal);
        await foreach (var item in outbox.GetBlobsAsync(BlobTraits.None, BlobStates.None, "quarters/", cancellationToken))
        {
            if (!item.Name.EndsWith("/manifest.json", StringComparison.Ordinal) || item.Name == ManifestName(label)
                || await ReadDeliveryAsync(outbox.GetBlobClient(item.Name), cancellationToken) is not { } earlier)
            {
                continue;
            }

            var listed = earlier.Versions.Count > 0
                ? earlier.Versions.Select(kv => (kv.Key, kv.Value.DefaultIfEmpty(0).Max()))
                : earlier.Files.Where(f => f.Role == "nhsOutput" && f.Study is not null && f.Version is not null).Select(f => (f.Study!, f.Version!.Value));
            foreach (var (study, version) in listed)
            {
                var candidate = (version, earlier.Revisions.GetValueOrDefault(study));
                if (!sent.TryGetValue(study, out var known) || candidate.CompareTo(known) > 0)
                {
                    sent[study] = candidate;
                }
            }
        }

        return sent;
    }

    public async Task SaveReportAsync(QuarterReport report, CancellationToken cancellationToken)
    {
        await reports.SaveAsync(QuarterlyOptOutOrchestration.Name, report.InstanceId, new DateTimeOffset(DateTime.SpecifyKind(report.CompletedAt, DateTimeKind.Utc)), report, cancellationToken);
        await faults.ReachedAsync(WorkflowSteps.QuarterReportSaved, cancellationToken);
    }

    private static long S251Of(File1VersionRecord record) =>
        record.Counts.TryGetValue("s251Participants", out long n) ? n : -1; // unknown (recorded before it was counted): treated as s251, so it fails closed

    private static Dictionary<string, long> ChangesOf(File1VersionRecord record) =>
        TtpOutputFormats.DeltaChangeKeys.Where(record.Counts.ContainsKey).ToDictionary(k => k, k => record.Counts[k]);

    private static async Task<long> AppendWithoutHeaderAsync(BlobClient source, Stream target, CancellationToken cancellationToken)
    {
        long rows = 0;
        await using var read = await source.OpenReadAsync(cancellationToken: cancellationToken);
        using var reader = new StreamReader(read, new UTF8Encoding(false));
        _ = await reader.ReadLineAsync(cancellationToken); // the header, written once above
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            // Only what NHS England acts on, whatever wrote the file (a delta staged before deltas were limited carried more).
            var f = line.Split(',');
            bool actsOn = f.Length > 2 && ((f[1] is "withdrawn" or "rejoined" && f[2] == "ukllc_status") || (f[1] is "permission-on" or "permission-off" && f[2] is "nhs_e_linkage" or "national_opt_out_applies"));
            if (!actsOn)
            {
                continue;
            }

            await target.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
            rows++;
        }

        return rows;
    }

    private static async Task<QuarterDelivery?> ReadDeliveryAsync(BlobClient manifest, CancellationToken cancellationToken)
    {
        try
        {
            return (await manifest.DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<QuarterDelivery>(Json);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }
}
