using System.Text.Json.Serialization;
using Azure.Storage.Blobs;
using Linkage.Azure.Storage;
using Linkage.File1;
using Linkage.Functions.Hosting;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Ttp;

/// <summary>What re-applying the national opt-out list did to one study (stored as its name).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OptOutReapplyOutcome>))]
public enum OptOutReapplyOutcome
{
    /// <summary>The study has no accepted File 1 yet.</summary>
    NoFile,

    /// <summary>Its newest File 1 has no participant on an s251 basis: the list never applies to it.</summary>
    NoS251Participants,

    /// <summary>No usable list: nothing was re-applied (the cycle holds the study's files from NHS England).</summary>
    ListUnusable,

    /// <summary>The newest File 1 was already made with this list.</summary>
    AlreadyCurrent,

    /// <summary>Re-read with the list: nobody's national opt-out changed; the record now names the list.</summary>
    Unchanged,

    /// <summary>Re-read with the list: a new revision of the File 1 is committed and published (snapshot, baseline, NHS Output, delta).</summary>
    Revised,
}

/// <summary>One study's re-application, for the quarter report: counts and the revision, never a token or identifier.</summary>
public sealed record OptOutReapplied(string Study, int? Version, int Revision, OptOutReapplyOutcome Outcome, long OptOutsStarted, long OptOutsLifted);

/// <summary>
/// Re-applies the newest national opt-out list to a study's newest accepted File 1 (decision 0801): under the study's
/// lock, after its recovery, the archived File 1 is read again with the list and, when anyone's opt-out changed, a new
/// <b>revision</b> of that File 1 goes through the same commit protocol as a delivery (stage → commit → publish): a new
/// permission snapshot put in force by the signed manifest (same version, next revision), a new baseline (so the next
/// File 1's delta does not repeat the change), the NHS Output without the newly opted-out, a delta of the opt-out
/// changes for NHS England, and the registry's history. Idempotent: a record made with this list is left alone.
/// </summary>
public sealed class OptOutReapplier(
    BlobServiceClient blobs,
    File1IntakeService intake,
    File1VersionStore versions,
    File1OutputWriter outputs,
    NationalOptOutSource optOutSource,
    KeyRingProvider keys,
    IStepFaults faults,
    IOptions<File1IntakeOptions> options,
    TimeProvider time,
    ILogger<OptOutReapplier> logger)
{
    /// <summary>The revision is committed (its record names its files); its publishing has not started.</summary>
    public const string RevisionCommittedStep = "File1.OptOutRevisionCommitted";

    /// <param name="cycle">The quarter whose cycle re-applies the list (recorded on the revision: that quarter delivers its delta).</param>
    public async Task<OptOutReapplied> ReapplyAsync(string study, string cycle, CancellationToken cancellationToken)
    {
        await using var studyLock = await intake.LockAsync(study, cancellationToken);
        var ct = studyLock.Token;
        var (committed, _) = await intake.RecoverAsync(study, ct);
        if (committed.Count == 0)
        {
            return new(study, null, 0, OptOutReapplyOutcome.NoFile, 0, 0);
        }

        var newest = committed[^1];
        if (newest.Counts.TryGetValue("s251Participants", out long s251) && s251 == 0)
        {
            return Result(newest, OptOutReapplyOutcome.NoS251Participants);
        }

        var list = await optOutSource.LoadAsync(ct);
        if (list.List is not { } optOut)
        {
            return Result(newest, OptOutReapplyOutcome.ListUnusable);
        }

        if (newest.OptOutList == optOut.Fingerprint)
        {
            // Made with this list: by intake, or by this cycle's earlier attempt (then its revision is reported again).
            return newest.Revisions.Count > 0 && newest.Revisions[^1] is { } last && last.Cycle == cycle && last.OptOutList == optOut.Fingerprint
                ? Result(newest, OptOutReapplyOutcome.Revised, last.Counts.GetValueOrDefault(StartedKey), last.Counts.GetValueOrDefault(LiftedKey))
                : Result(newest, OptOutReapplyOutcome.AlreadyCurrent);
        }

        return await ReviseAsync(newest, committed.Count > 1 ? committed[^2] : null, optOut, cycle, ct);
    }

    private async Task<OptOutReapplied> ReviseAsync(File1VersionRecord newest, File1VersionRecord? previous, NationalOptOutList optOut, string cycle, CancellationToken ct)
    {
        string study = newest.Study;
        int version = newest.Version!.Value;
        string archived = newest.Outputs.GetValueOrDefault(File1IntakeService.ArchivedKey)
            ?? throw new InvalidOperationException($"{study} v{version} has no archived copy, so the national opt-out list cannot be re-applied to it; it applies at the study's next File 1.");
        var source = blobs.GetBlobContainerClient(TtpStorage.File1Archive).GetBlobClient(File1OutputWriter.BlobName(archived));
        var etag = (await source.GetPropertiesAsync(cancellationToken: ct)).Value.ETag;

        // The tokens must be the ones the File 1 was made with, also after a key rotation.
        int? keyVersion = KeyPurposes.TryParseVersionLabel(newest.TokenKeyVersion ?? "", out _, out int v) ? v : null;
        using var tokenizer = await keys.GetStudyIdTokenizerAsync(ct, keyVersion);
        using var linkCipher = await keys.GetCipherAsync(TtpFile1Processor.LinkKeyPurpose, ct);
        var processor = new TtpFile1Processor(tokenizer, optOut, linkCipher);
        TtpFile1Processor.Collected collected;
        await using (var read = await PrefetchingBlobReadStream.OpenAsync(source, etag, cancellationToken: ct))
        {
            collected = await processor.CheckAndCollectAsync(read, new File1CheckOptions
            {
                FileName = newest.FileName,
                KnownStudyCodes = options.Value.KnownStudyCodes.Append(study).Distinct(StringComparer.Ordinal).ToList(),
                ExpectedStudyCode = study,
                IsFirstFile = previous is null,
                LatestAcceptedVersion = version,
                AcceptedNameOfThisVersion = newest.FileName,
                TimeProvider = time,
            }, study, ct);
        }

        if (!collected.Report.Accepted)
        {
            throw new InvalidOperationException($"The archived File 1 of {study} v{version} no longer passes its checks ({collected.Report.ErrorCount} errors), so the national opt-out list was not re-applied to it; it applies at the study's next File 1.");
        }

        var (started, lifted) = await CompareAsync(newest, collected.Participants, ct);
        if (started + lifted == 0)
        {
            await versions.UpsertAsync(newest with { OptOutList = optOut.Fingerprint }, ct);
            logger.LogInformation("{Study} v{Version}: the national opt-out list re-applied changes nobody", study, version);
            return Result(newest, OptOutReapplyOutcome.Unchanged);
        }

        // Stage
        int revision = newest.Revision + 1;
        var staged = await outputs.StageAsync(new File1StageRequest(
            source, etag, study, version, newest.FileDate!.Value, tokenizer.KeyVersion, collected.Participants, processor, Previous: newest, Revision: revision), ct);

        // Commit: the record names the revision's files, and keeps every revision's.
        var counts = new Dictionary<string, long>(staged.Counts) { [StartedKey] = started, [LiftedKey] = lifted };
        var history = newest.AllRevisions().Append(new File1Revision(revision, cycle, time.GetUtcNow(), optOut.Fingerprint, staged.Files, counts)).ToList();
        var files = new Dictionary<string, ManifestFile>(newest.Files);
        var named = new Dictionary<string, string>(newest.Outputs) { ["revision"] = $"r{revision}" };
        foreach (var (key, file) in staged.Files)
        {
            files[key] = file;
            named[key] = file.Name;
        }

        var recordCounts = new Dictionary<string, long>(newest.Counts)
        {
            ["nationalOptOutApplied"] = collected.Participants.Count(p => p.Flags.HasFlag(PermissionFlags.NationalOptOutApplies)),
            ["nhsOutputParticipants"] = collected.Participants.Count(p => p.InNhsOutput),
            ["nhsOutputRows"] = staged.Counts["nhsOutputRows"],
        };
        var record = await versions.UpsertAsync(newest with
        {
            State = File1VersionState.Committed,
            Revision = revision,
            Revisions = history,
            Files = files,
            Outputs = named,
            Counts = recordCounts,
            OptOutList = optOut.Fingerprint,
            PublishedAt = null,
        }, ct);
        await faults.ReachedAsync(RevisionCommittedStep, ct);

        // Publish (registry, manifests), as any committed File 1: a crash from here is rolled forward by the next run of the study.
        record = await intake.PublishAsync(record, previous, ct);
        logger.LogInformation(
            "{Study} v{Version} revision {Revision}: the national opt-out list now applies to {Started} more and no longer to {Lifted} participants",
            study, version, revision, started, lifted);
        return Result(record, OptOutReapplyOutcome.Revised, started, lifted);
    }

    /// <summary>How many participants the list newly applies to, and no longer applies to, against the record's baseline.</summary>
    private async Task<(long Started, long Lifted)> CompareAsync(File1VersionRecord record, IReadOnlyList<Participant> participants, CancellationToken ct)
    {
        PermissionSnapshot baseline;
        await using (var s = await blobs.GetBlobContainerClient(TtpStorage.Registry).GetBlobClient(File1OutputWriter.BlobName(record.Files[File1OutputWriter.Keys.Baseline].Name)).OpenReadAsync(cancellationToken: ct))
        {
            baseline = await PermissionSnapshot.ReadAsync(s, ct);
        }

        var before = baseline.Entries().ToDictionary(e => e.Token, e => e.Flags);
        long started = 0, lifted = 0;
        foreach (var p in participants)
        {
            if (!before.TryGetValue(p.Token, out var was) || (was & ~PermissionFlags.NationalOptOutApplies) != (p.Flags & ~PermissionFlags.NationalOptOutApplies))
            {
                // Same file, same key: only the list can differ. Anything else means the archive is not the file that was accepted.
                throw new InvalidOperationException($"The archived File 1 of {record.Study} v{record.Version} does not read as it did when accepted; the national opt-out list was not re-applied to it.");
            }

            bool now = p.Flags.HasFlag(PermissionFlags.NationalOptOutApplies);
            bool then = was.HasFlag(PermissionFlags.NationalOptOutApplies);
            started += now && !then ? 1 : 0;
            lifted += then && !now ? 1 : 0;
        }

        return (started, lifted);
    }

    private const string StartedKey = "optOutsStarted";
    private const string LiftedKey = "optOutsLifted";

    private static OptOutReapplied Result(File1VersionRecord record, OptOutReapplyOutcome outcome, long started = 0, long lifted = 0) =>
        new(record.Study, record.Version, record.Revision, outcome, started, lifted);
}
