using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Linkage.Azure.Storage;
using Linkage.File1;
using Linkage.Functions.Hosting;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Ttp;

/// <summary>Settings of File 1 intake (section <c>File1</c>).</summary>
public sealed class File1IntakeOptions
{
    public const string SectionName = "File1";

    /// <summary>Study codes accepted in file names, comma-separated; the list is configuration, providers join over time.</summary>
    public string KnownStudies { get; set; } = string.Join(',', File1CheckOptions.DefaultKnownStudyCodes);

    /// <summary>How long a File 1 waits for another file of the same study to finish before its delivery is retried later.</summary>
    public double StudyLockWaitMinutes { get; set; } = 15;

    /// <summary>Lease on a study's lock, 15–60 s, renewed while a file is processed: how long a crashed run blocks the study.</summary>
    public int StudyLockLeaseSeconds { get; set; } = 30;

    /// <summary>An older national opt-out list is not used (NHS England publishes it monthly): s251 studies wait for a current one.</summary>
    public double NationalOptOutMaxAgeDays { get; set; } = 45;

    public IReadOnlyCollection<string> KnownStudyCodes =>
        KnownStudies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>What one run of File 1 intake did.</summary>
public sealed record File1IntakeResult(string Outcome, File1VersionRecord Record, File1CheckReport? Report);

/// <summary>The named steps of File 1 intake, where fault injection can stop it (<see cref="IStepFaults"/>).</summary>
public static class File1Steps
{
    public const string Recovered = "File1.Recovered";
    public const string Checked = "File1.Checked";
    public const string Staged = "File1.Staged";
    public const string Committed = "File1.Committed";
    public const string RegistryApplied = "File1.RegistryApplied";
    public const string Linked = "File1.Linked";
    public const string ManifestsPublished = "File1.ManifestsPublished";
    public const string Published = "File1.Published";

    public static IReadOnlyList<string> All { get; } = [Recovered, Checked, Staged, Committed, RegistryApplied, Linked, ManifestsPublished, Published];
}

/// <summary>
/// The TTP's File 1 intake, as a commit protocol (docs/decisions/0603): under the study's lock, <b>recover</b> (finish
/// publishing any committed file, withdraw what no committed file names), <b>check</b> the file, <b>stage</b> its outputs,
/// <b>commit</b> its version record, then <b>publish</b> (registry, cross-study links, manifests, archive). Nothing is in
/// force before the commit, and everything after it rolls forward: a crash at any step is finished or undone by the
/// next run of the study, never left half-visible.
/// </summary>
public sealed class File1IntakeService(
    BlobServiceClient blobs,
    File1VersionStore versions,
    ParticipantRegistry registry,
    File1OutputWriter outputs,
    CrossStudyLinker linker,
    StudyManifestPublisher manifests,
    NationalOptOutSource optOutSource,
    KeyRingProvider keys,
    IStepFaults faults,
    IOptions<File1IntakeOptions> options,
    TimeProvider time,
    ILogger<File1IntakeService> logger)
{
    public async Task<File1IntakeResult> ProcessAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        var delivery = File1Delivery.Of(blob, etag);
        await using var studyLock = await LockAsync(delivery.Partition, cancellationToken);
        var ct = studyLock.Token;

        var (committed, finished) = await RecoverAsync(delivery.Partition, ct);
        await faults.ReachedAsync(File1Steps.Recovered, ct);

        if (await FindDoneAsync(delivery, ct) is { } done)
        {
            // Finished by this run's recovery (an earlier attempt committed it): this run is the one that accepted it.
            bool finishedNow = finished.Contains(done.Id);
            logger.LogInformation("File 1 {Blob} ({ETag}) was already {State}{Now}", blob.Name, etag, done.State, finishedNow ? " (its publishing finished now)" : "; nothing to do");
            done = await MoveAsync(done, delivery, ct);
            return new File1IntakeResult(finishedNow ? "Accepted" : "AlreadyProcessed", done, null);
        }

        // Check
        var previous = committed.Where(r => r.Version < delivery.Version).LastOrDefault();
        var optOut = await optOutSource.LoadAsync(ct);
        using var tokenizer = await keys.GetStudyIdTokenizerAsync(ct);
        using var linkCipher = await keys.GetCipherAsync(TtpFile1Processor.LinkKeyPurpose, ct);
        var processor = new TtpFile1Processor(tokenizer, optOut.List ?? NationalOptOutList.Empty, linkCipher);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TtpFile1Processor.Collected collected;
        string sourceSha256;
        await using (var hashed = new Sha256ReadStream(await PrefetchingBlobReadStream.OpenAsync(blob, etag, cancellationToken: ct)))
        {
            collected = await processor.CheckAndCollectAsync(hashed, CheckOptions(delivery, committed, previous), delivery.Study, ct);
            sourceSha256 = await hashed.FinishAsync(ct);
        }

        var seconds = new Dictionary<string, double> { ["checkAndCollect"] = Math.Round(clock.Elapsed.TotalSeconds, 2) };
        await faults.ReachedAsync(File1Steps.Checked, ct);
        if (!collected.Report.Accepted)
        {
            var rejected = await RejectAsync(delivery, collected.Report, ct);
            return new File1IntakeResult("Rejected", rejected, collected.Report);
        }

        if (optOut.List is null && collected.Participants.Any(p => p.S251))
        {
            // Without a usable list, opted-out people of an s251 study would go to NHS England. Nothing is written; the
            // delivery stays in the inbox and is retried, then held for an operator once the list is fixed.
            throw new NationalOptOutListMissingException($"{blob.Name} has participants on an s251 basis, but {optOut.Unusable}. The file will be processed on its next attempt once that is fixed.");
        }

        // Stage. A corrected file re-sent under an accepted version's name is that version's next revision: its delta is
        // the correction alone, and nothing the version wrote before (which a quarter may have delivered) is overwritten.
        var replaced = committed.LastOrDefault(r => r.Version == delivery.Version);
        string? optOutList = collected.Participants.Any(p => p.S251) ? optOut.List?.Fingerprint : null;
        if (replaced is { SourceSha256: { } accepted } && accepted == sourceSha256 && replaced.TokenKeyVersion == tokenizer.KeyVersion && replaced.OptOutList == optOutList)
        {
            // The same bytes again (a provider's re-upload), under the same key and opt-out list: nothing to revise, and
            // nothing for NHS England to receive twice. (After a key rotation or a newer list, a re-send is re-made.)
            logger.LogInformation("File 1 {Blob} ({ETag}) is byte for byte the accepted {Study} v{Version}; nothing changes", blob.Name, etag, replaced.Study, replaced.Version);
            var unchanged = await versions.UpsertAsync(replaced with { SourceBlob = $"{TtpStorage.File1Inbox}/{blob.Name}", SourceETag = etag.ToString() }, ct);
            return new File1IntakeResult("Unchanged", await MoveAsync(unchanged, delivery, ct), collected.Report);
        }

        int revision = replaced is null ? 0 : replaced.Revision + 1;
        clock.Restart();
        var staged = await outputs.StageAsync(new File1StageRequest(
            blob, etag, delivery.Study, delivery.Version, delivery.FileDate, tokenizer.KeyVersion, collected.Participants, processor, replaced ?? previous, revision), ct);
        seconds["stage"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
        await faults.ReachedAsync(File1Steps.Staged, ct);

        // Commit
        var record = CommittedRecord(delivery, collected, staged, tokenizer.KeyVersion, seconds) with { OptOutList = optOutList, SourceSha256 = sourceSha256 };
        if (replaced is not null)
        {
            record = record with
            {
                Revision = revision,
                Revisions = replaced.AllRevisions().Append(new File1Revision(revision, null, time.GetUtcNow(), optOutList, staged.Files, staged.Counts)).ToList(),
                Outputs = new Dictionary<string, string>(record.Outputs) { ["revision"] = $"r{revision}" },
            };
        }

        record = await versions.UpsertAsync(record, ct);
        await faults.ReachedAsync(File1Steps.Committed, ct);

        // Publish
        record = await PublishAsync(record, previous, ct);
        record = await MoveAsync(record, delivery, ct);
        logger.LogInformation(
            "Accepted File 1 {Study} v{Version}: {Rows} rows, {Participants} participants, {NhsRows} NHS Output rows, {DeltaRows} delta rows",
            record.Study, record.Version, record.Rows, record.Participants, record.Counts["nhsOutputRows"], record.Counts["deltaRows"]);
        return new File1IntakeResult("Accepted", record, collected.Report);
    }

    /// <summary>
    /// Makes the study of a held delivery consistent (under its lock): finishes publishing what was committed and
    /// withdraws what was staged and never committed.
    /// </summary>
    public async Task RecoverStudyAsync(string blobName, CancellationToken cancellationToken)
    {
        var delivery = File1Delivery.Of(blobs.GetBlobContainerClient(TtpStorage.File1Inbox).GetBlobClient(blobName), default);
        await using var studyLock = await LockAsync(delivery.Partition, cancellationToken);
        await RecoverAsync(delivery.Partition, studyLock.Token);
    }

    /// <summary>
    /// Makes the study consistent before anything new is decided: publishes committed files whose publishing a crash cut
    /// short (in version order, so each is published against its predecessor), and withdraws outputs that no committed
    /// file names. Returns the study's committed files and the ids of those this run finished.
    /// </summary>
    internal async Task<(IReadOnlyList<File1VersionRecord> Committed, IReadOnlySet<string> Finished)> RecoverAsync(string study, CancellationToken cancellationToken)
    {
        var committed = await versions.AcceptedAsync(study, cancellationToken);
        var all = new List<File1VersionRecord>(committed.Count);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in committed)
        {
            if (record.State == File1VersionState.Committed)
            {
                logger.LogWarning("File 1 {Study} v{Version} was committed but not fully published (an interrupted run); publishing it now", record.Study, record.Version);
                var published = await PublishAsync(record, all.LastOrDefault(), cancellationToken);
                all.Add(await MoveAsync(published, File1Delivery.Of(blobs.GetBlobContainerClient(TtpStorage.File1Inbox).GetBlobClient(BlobName(record.SourceBlob)), new ETag(record.SourceETag)), cancellationToken));
                finished.Add(record.Id);
            }
            else if (!record.Outputs.ContainsKey(ArchivedKey))
            {
                // Accepted, but a crash came before its delivery was archived: the quarter's re-application reads the archive.
                all.Add(await MoveAsync(record, File1Delivery.Of(blobs.GetBlobContainerClient(TtpStorage.File1Inbox).GetBlobClient(BlobName(record.SourceBlob)), new ETag(record.SourceETag)), cancellationToken));
            }
            else
            {
                all.Add(record);
            }
        }

        foreach (string path in await outputs.WithdrawUncommittedAsync(study, all, cancellationToken))
        {
            logger.LogWarning("Withdrew {Output}, written by an attempt at a {Study} File 1 that never committed", path, study);
        }

        return (all, finished);
    }

    /// <summary>
    /// The publish steps of a committed record, each idempotent and each counting what it did from data, not from its own
    /// side effects, so that a re-run reports what the first run would have; the record becomes Accepted when all are done.
    /// </summary>
    internal async Task<File1VersionRecord> PublishAsync(File1VersionRecord record, File1VersionRecord? previous, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(record.Counts);
        var seconds = new Dictionary<string, double>(record.Seconds);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var baseline = record.Files[File1OutputWriter.Keys.Baseline];
        PermissionSnapshot snapshot;
        await using (var s = await blobs.GetBlobContainerClient(TtpStorage.Registry).GetBlobClient(File1OutputWriter.BlobName(baseline.Name)).OpenReadAsync(cancellationToken: cancellationToken))
        {
            snapshot = await PermissionSnapshot.ReadAsync(s, cancellationToken);
        }

        // A revision is applied as a file of its own (same version, its own key), dated when the list was re-applied (a
        // corrected file keeps its file's date).
        var (fileKey, changedOn) = record.Revision == 0
            ? (record.SourceETag, record.FileDate!.Value)
            : ($"{record.SourceETag}:r{record.Revision}", record.Revisions[^1].Cycle is null ? record.FileDate!.Value : DateOnly.FromDateTime(record.Revisions[^1].At.UtcDateTime));
        counts["registryChanges"] = await registry.ApplyAsync(record.Study, record.Version!.Value, fileKey, changedOn, snapshot.Entries(), cancellationToken);
        seconds["registry"] = Lap(clock);
        await faults.ReachedAsync(File1Steps.RegistryApplied, cancellationToken);

        (counts["crossStudyLinks"], counts["crossStudyLinksRemoved"]) = await linker.PublishAsync(
            record.Study, StagedIndex(record), PreviousIndex(record, previous), cancellationToken);
        seconds["crossStudyLinks"] = Lap(clock);
        await faults.ReachedAsync(File1Steps.Linked, cancellationToken);

        if (!await manifests.PublishAsync(record, cancellationToken))
        {
            logger.LogWarning("File 1 {Study} v{Version} was published after a newer version; the manifests keep naming the newer one", record.Study, record.Version);
        }

        seconds["manifests"] = Lap(clock);
        await faults.ReachedAsync(File1Steps.ManifestsPublished, cancellationToken);

        var accepted = await versions.UpsertAsync(record with { State = File1VersionState.Accepted, Counts = counts, Seconds = seconds, PublishedAt = time.GetUtcNow() }, cancellationToken);
        await faults.ReachedAsync(File1Steps.Published, cancellationToken);
        return accepted;
    }

    private File1VersionRecord CommittedRecord(File1Delivery d, TtpFile1Processor.Collected collected, File1StagedOutputs staged, string keyVersion, Dictionary<string, double> seconds)
    {
        var participants = collected.Participants;
        var counts = new Dictionary<string, long>(staged.Counts)
        {
            ["participants"] = participants.Count,
            ["nhsOutputParticipants"] = participants.Count(p => p.InNhsOutput),
            ["withdrawn"] = participants.Count(p => !p.Flags.HasFlag(PermissionFlags.Active)),
            ["nationalOptOutApplied"] = participants.Count(p => p.Flags.HasFlag(PermissionFlags.NationalOptOutApplies)),
            ["s251Participants"] = participants.Count(p => p.S251),
        };
        return new File1VersionRecord
        {
            Id = File1VersionStore.IdFor(d.Study, d.Version),
            Study = d.Study,
            Version = d.Version,
            FileName = d.FileName,
            FileDate = d.FileDate,
            SourceBlob = $"{TtpStorage.File1Inbox}/{d.Blob.Name}",
            SourceETag = d.ETag.ToString(),
            State = File1VersionState.Committed,
            Rows = collected.Report.Rows,
            Participants = collected.Report.Participants,
            Errors = collected.Report.ErrorCount,
            Warnings = collected.Report.WarningCount,
            TokenKeyVersion = keyVersion,
            Outputs = staged.Files.ToDictionary(f => f.Key, f => f.Value.Name),
            Files = staged.Files,
            Counts = counts,
            Seconds = seconds,
            ProcessedAt = time.GetUtcNow(),
        };
    }

    private async Task<File1VersionRecord> RejectAsync(File1Delivery d, File1CheckReport report, CancellationToken cancellationToken)
    {
        // The report is named after the delivery's quarantined copy, so a later rejected delivery of the same name
        // gets its own report beside it instead of replacing this one.
        string reportJson = File1CheckReportJson.ToJson(report);
        var quarantine = await ContainerAsync(TtpStorage.File1Quarantine, cancellationToken);
        string quarantined = await d.Blob.PlannedNameAsync(d.ETag, quarantine, cancellationToken) ?? d.Blob.Name;
        await quarantine.GetBlobClient(quarantined + ".report.json").UploadAsync(BinaryData.FromString(reportJson), overwrite: true, cancellationToken);
        var reports = await ContainerAsync(TtpStorage.ProviderReports, cancellationToken);
        await reports.GetBlobClient(quarantined + ".report.json").UploadAsync(BinaryData.FromString(reportJson), overwrite: true, cancellationToken);

        var record = await versions.UpsertAsync(new File1VersionRecord
        {
            Id = d.RejectionId,
            Study = d.Partition,
            Version = report.Version,
            FileName = d.FileName,
            FileDate = report.FileDate,
            SourceBlob = $"{TtpStorage.File1Inbox}/{d.Blob.Name}",
            SourceETag = d.ETag.ToString(),
            State = File1VersionState.Rejected,
            Rows = report.Rows,
            Participants = report.Participants,
            Errors = report.ErrorCount,
            Warnings = report.WarningCount,
            Outputs = new Dictionary<string, string>
            {
                [QuarantinedKey] = $"{TtpStorage.File1Quarantine}/{quarantined}",
                ["report"] = $"{TtpStorage.ProviderReports}/{quarantined}.report.json",
            },
            ProcessedAt = time.GetUtcNow(),
        }, cancellationToken);
        record = await MoveAsync(record, d, cancellationToken);
        logger.LogWarning("Rejected File 1 {Blob}: {Errors} errors, {Warnings} warnings; quarantined with its report", d.Blob.Name, report.ErrorCount, report.WarningCount);
        return record;
    }

    /// <summary>This blob version's record, if it was decided already (accepted under its version, or rejected under its own id).</summary>
    private async Task<File1VersionRecord?> FindDoneAsync(File1Delivery d, CancellationToken cancellationToken)
    {
        string etag = d.ETag.ToString();
        if (d.RecordId.Length > 0 && await versions.GetAsync(d.Partition, d.RecordId, cancellationToken) is { } accepted && accepted.SourceETag == etag)
        {
            return accepted;
        }

        return await versions.GetAsync(d.Partition, d.RejectionId, cancellationToken) is { } rejected && rejected.SourceETag == etag ? rejected : null;
    }

    internal File1CheckOptions CheckOptions(File1Delivery d, IReadOnlyList<File1VersionRecord> committed, File1VersionRecord? previous) => new()
    {
        FileName = d.FileName,
        KnownStudyCodes = options.Value.KnownStudyCodes,
        ExpectedStudyCode = d.FolderStudy, // "" for a file outside any study folder: never matches, so it is rejected
        IsFirstFile = d.NameParsed && previous is null,
        LatestAcceptedVersion = committed.Count > 0 ? committed.Max(r => r.Version) : null,
        AcceptedNameOfThisVersion = committed.FirstOrDefault(r => r.Version == d.Version)?.FileName,
        TimeProvider = time,
    };

    /// <summary>One File 1 of a study at a time: runs, recoveries and held-delivery withdrawals all take the study's lock.</summary>
    internal Task<StudyLock> LockAsync(string study, CancellationToken cancellationToken) => StudyLock.AcquireAsync(
        blobs, study, TimeSpan.FromMinutes(options.Value.StudyLockWaitMinutes), TimeSpan.FromSeconds(Math.Clamp(options.Value.StudyLockLeaseSeconds, 15, 60)), logger, cancellationToken);

    private static double Lap(System.Diagnostics.Stopwatch clock)
    {
        double s = Math.Round(clock.Elapsed.TotalSeconds, 2);
        clock.Restart();
        return s;
    }

    private static string BlobName(string path) => File1OutputWriter.BlobName(path);

    private static string StagedIndex(File1VersionRecord record) => File1OutputWriter.BlobName(record.Files[File1OutputWriter.Keys.LinkIndex].Name);

    /// <summary>What the study's links were before this record: its previous revision's index, else the previous version's.</summary>
    private static string? PreviousIndex(File1VersionRecord record, File1VersionRecord? previous) =>
        record.AllRevisions().LastOrDefault(r => r.Revision < record.Revision && r.Files.ContainsKey(File1OutputWriter.Keys.LinkIndex)) is { } earlier
            ? File1OutputWriter.BlobName(earlier.Files[File1OutputWriter.Keys.LinkIndex].Name)
            : previous is null ? null : StagedIndex(previous);

    private async Task<BlobContainerClient> ContainerAsync(string name, CancellationToken cancellationToken)
    {
        var c = blobs.GetBlobContainerClient(name);
        await c.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return c;
    }

    internal const string ArchivedKey = "archived";
    private const string QuarantinedKey = "quarantined";

    /// <summary>
    /// Moves the delivery to the archive (committed) or quarantine (rejected), which never overwrites an earlier
    /// delivery of the same name, and records where its copy went.
    /// </summary>
    private async Task<File1VersionRecord> MoveAsync(File1VersionRecord record, File1Delivery d, CancellationToken cancellationToken)
    {
        var (container, key) = record.IsCommitted ? (TtpStorage.File1Archive, ArchivedKey) : (TtpStorage.File1Quarantine, QuarantinedKey);
        if (await d.Blob.MoveToAsync(d.ETag, blobs.GetBlobContainerClient(container), cancellationToken) is not { } name
            || record.Outputs.GetValueOrDefault(key) == $"{container}/{name}")
        {
            return record;
        }

        return await versions.UpsertAsync(record with { Outputs = new Dictionary<string, string>(record.Outputs) { [key] = $"{container}/{name}" } }, cancellationToken);
    }
}

/// <summary>
/// A delivered File 1 blob version and what its name says. Blob name: <c>&lt;STUDY&gt;/&lt;file name&gt;</c>; the folder is
/// the provider's own area, and its study code must match the file name's.
/// </summary>
internal sealed record File1Delivery(BlobClient Blob, ETag ETag, string FolderStudy, string FileName, bool NameParsed, string Study, int Version, DateOnly FileDate)
{
    /// <summary>The Cosmos partition of its records: the folder's study (or <c>_unknown</c>).</summary>
    public string Partition => FolderStudy.Length > 0 ? FolderStudy : "_unknown";

    /// <summary>
    /// An accepted file is recorded under its study and version; a rejected delivery under its own id, so that rejecting
    /// a stale or broken copy of a version never overwrites that version's accepted record.
    /// </summary>
    public string RecordId => NameParsed && Study == FolderStudy ? File1VersionStore.IdFor(Study, Version) : "";

    public string RejectionId => "rejected-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Blob.Name + "|" + ETag)))[..16].ToLowerInvariant();

    public static File1Delivery Of(BlobClient blob, ETag etag)
    {
        string[] parts = blob.Name.Split('/', 2);
        string folder = parts.Length == 2 ? parts[0] : "";
        string fileName = parts.Length == 2 ? parts[1] : blob.Name;
        bool parsed = File1FileName.TryParse(fileName, out string study, out int version, out DateOnly date);
        return new File1Delivery(blob, etag, folder, fileName, parsed, parsed ? study : folder, version, date);
    }
}

/// <summary>A File 1 with s251 participants arrived while no usable national opt-out list is there; it is retried, never processed without one.</summary>
public sealed class NationalOptOutListMissingException(string message) : InvalidOperationException(message);
