using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Cosmos;
using Linkage.Azure.Storage;
using Linkage.File1;
using Linkage.Functions.Hosting;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Azure.Cosmos;
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

    public IReadOnlyCollection<string> KnownStudyCodes =>
        KnownStudies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>What one run of File 1 intake did.</summary>
public sealed record File1IntakeResult(string Outcome, File1VersionRecord Record, File1CheckReport? Report);

/// <summary>
/// The TTP's File 1 intake: check the file, and either quarantine it with its report, or tokenise the participants,
/// update the registry, link across studies and write the ID mapping file, permission snapshot, NHS Output and delta file.
/// Idempotent: outputs have deterministic names and are overwritten atomically; the registry skips versions it has
/// applied; a redelivered blob version that was completed is recognised and does nothing.
/// </summary>
public sealed class File1IntakeService(
    BlobServiceClient blobs,
    CosmosDatabase cosmos,
    File1VersionStore versions,
    ParticipantRegistry registry,
    KeyRingProvider keys,
    IOptions<File1IntakeOptions> options,
    TimeProvider time,
    ILogger<File1IntakeService> logger)
{
    public const string LinksContainerId = "ttp-links";

    public async Task<File1IntakeResult> ProcessAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        string[] folder = blob.Name.Split('/', 2);
        await using var studyLock = await StudyLock.AcquireAsync(
            blobs, folder.Length == 2 ? folder[0] : "_unknown", TimeSpan.FromMinutes(options.Value.StudyLockWaitMinutes), TimeSpan.FromSeconds(Math.Clamp(options.Value.StudyLockLeaseSeconds, 15, 60)), logger, cancellationToken);
        return await ProcessLockedAsync(blob, etag, studyLock.Token);
    }

    private async Task<File1IntakeResult> ProcessLockedAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        // Blob name: <STUDY>/<file name>. The folder is the provider's own area: its study code must match the file name's.
        string[] parts = blob.Name.Split('/', 2);
        string folderStudy = parts.Length == 2 ? parts[0] : "";
        string fileName = parts.Length == 2 ? parts[1] : blob.Name;
        bool nameParsed = File1FileName.TryParse(fileName, out string study, out int version, out DateOnly fileDate);
        string partition = folderStudy.Length > 0 ? folderStudy : "_unknown";

        // An accepted file is recorded under its study and version; a rejected delivery under its own id, so that
        // rejecting a stale or broken copy of a version never overwrites that version's accepted record (the history
        // that decides "first file" and "superseded" for every later file).
        string recordId = nameParsed && study == folderStudy ? File1VersionStore.IdFor(study, version) : "";
        string rejectionId = "rejected-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(blob.Name + "|" + etag)))[..16].ToLowerInvariant();
        var existing = recordId.Length > 0 ? await versions.GetAsync(partition, recordId, cancellationToken) : null;
        if (existing is null || existing.SourceETag != etag.ToString())
        {
            existing = await versions.GetAsync(partition, rejectionId, cancellationToken);
        }

        if (existing is not null && existing.SourceETag == etag.ToString())
        {
            logger.LogInformation("File 1 {Blob} ({ETag}) was already processed ({State}); nothing to do", blob.Name, etag, existing.State);
            await MoveAsync(blob, etag, existing.State == "Accepted" ? TtpStorage.File1Archive : TtpStorage.File1Quarantine, cancellationToken);
            return new File1IntakeResult("AlreadyProcessed", existing, null);
        }

        var accepted = nameParsed && study == folderStudy ? await versions.AcceptedAsync(study, cancellationToken) : [];
        var previous = accepted.Where(r => r.Version < version).LastOrDefault();
        var checkOptions = new File1CheckOptions
        {
            FileName = fileName,
            KnownStudyCodes = options.Value.KnownStudyCodes,
            ExpectedStudyCode = folderStudy, // "" for a file outside any study folder: never matches, so it is rejected
            IsFirstFile = nameParsed && previous is null,
            LatestAcceptedVersion = accepted.Count > 0 ? accepted.Max(r => r.Version) : null,
            AcceptedNameOfThisVersion = accepted.FirstOrDefault(r => r.Version == version)?.FileName,
            TimeProvider = time,
        };

        using var tokenizer = await keys.GetStudyIdTokenizerAsync(cancellationToken);
        using var linkCipher = await keys.GetCipherAsync(TtpFile1Processor.LinkKeyPurpose, cancellationToken);
        var optOut = await LoadOptOutListAsync(cancellationToken);
        var processor = new TtpFile1Processor(tokenizer, optOut ?? NationalOptOutList.Empty, linkCipher);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        TtpFile1Processor.Collected collected;
        await using (var read = await OpenVersionAsync(blob, etag, cancellationToken))
        {
            collected = await processor.CheckAndCollectAsync(read, checkOptions, nameParsed ? study : folderStudy, cancellationToken);
        }

        var report = collected.Report;
        if (!report.Accepted)
        {
            if (recordId.Length > 0 && accepted.All(r => r.Version != version))
            {
                // An earlier, interrupted attempt at this never-accepted version may have written outputs: withdraw them.
                await WithdrawOutputsAsync(study, version, fileDate, cancellationToken);
            }

            var rejected = await RejectAsync(blob, etag, partition, rejectionId, fileName, report, cancellationToken);
            return new File1IntakeResult("Rejected", rejected, report);
        }

        if (optOut is null && collected.Participants.Any(p => p.S251))
        {
            // Without the list, opted-out people of an s251 study would go to NHS England. Nothing has been written;
            // the delivery stays in the inbox and is retried (then poisoned, for an operator to re-run once the list is there).
            throw new NationalOptOutListMissingException(
                $"{blob.Name} has participants on an s251 basis, but there is no national opt-out list at {TtpStorage.Config}/{TtpStorage.NationalOptOutBlob}. " +
                "Upload the current list (an empty file if there are no opt-outs) and the file will be processed on its next attempt.");
        }

        var record = await AcceptAsync(blob, etag, study, version, fileDate, fileName, recordId, previous, collected, processor, tokenizer.KeyVersion, clock.Elapsed, cancellationToken);
        return new File1IntakeResult("Accepted", record, report);
    }

    private async Task<File1VersionRecord> AcceptAsync(
        BlobClient blob, ETag etag, string study, int version, DateOnly fileDate, string fileName, string recordId,
        File1VersionRecord? previous, TtpFile1Processor.Collected collected, TtpFile1Processor processor, string keyVersion,
        TimeSpan checkTime, CancellationToken cancellationToken)
    {
        var participants = collected.Participants;
        var outputs = new Dictionary<string, string>();
        var seconds = new Dictionary<string, double> { ["checkAndCollect"] = Math.Round(checkTime.TotalSeconds, 2) };
        var phase = System.Diagnostics.Stopwatch.StartNew();
        void Lap(string name)
        {
            seconds[name] = Math.Round(phase.Elapsed.TotalSeconds, 2);
            phase.Restart();
        }

        var counts = new Dictionary<string, long>
        {
            ["participants"] = participants.Count,
            ["nhsOutputParticipants"] = participants.Count(p => p.InNhsOutput),
            ["withdrawn"] = participants.Count(p => !p.Flags.HasFlag(PermissionFlags.Active)),
            ["nationalOptOutApplied"] = participants.Count(p => p.Flags.HasFlag(PermissionFlags.NationalOptOutApplies)),
        };

        // To the processor: no identifiers.
        var processorInbox = await ContainerAsync(TtpStorage.ProcessorInbox, cancellationToken);
        string idMapping = TtpStorage.IdMapping(study, version, fileDate);
        await WriteTextAtomicallyAsync(processorInbox, idMapping, w => { TtpOutputFormats.WriteIdMapping(participants, study, version, keyVersion, w); return Task.CompletedTask; }, cancellationToken);
        outputs["idMapping"] = $"{TtpStorage.ProcessorInbox}/{idMapping}";

        string snapshotName = TtpStorage.PermissionSnapshot(study, version, fileDate);
        var snapshot = TtpOutputFormats.SnapshotOf(participants, new PermissionSnapshotHeader(study, version, keyVersion, time.GetUtcNow()));
        await using (var w = new AtomicBlobWriter(processorInbox.GetBlockBlobClient(snapshotName)))
        {
            await snapshot.WriteAsync(w, cancellationToken);
            await w.CommitAsync(cancellationToken: cancellationToken);
        }

        outputs["permissionSnapshot"] = $"{TtpStorage.ProcessorInbox}/{snapshotName}";
        Lap("idMappingAndSnapshot");

        // To NHS England: identifiers, TTP zone only.
        var nhse = await ContainerAsync(TtpStorage.NhseOutbox, cancellationToken);
        string nhsOutput = TtpStorage.NhsOutput(study, version, fileDate);
        long nhsRows = 0;
        await WriteTextAtomicallyAsync(nhse, nhsOutput, async w =>
        {
            await using var read = await OpenVersionAsync(blob, etag, cancellationToken);
            nhsRows = await processor.WriteNhsOutputAsync(read, study, participants, w, cancellationToken);
        }, cancellationToken);
        outputs["nhsOutput"] = $"{TtpStorage.NhseOutbox}/{nhsOutput}";
        counts["nhsOutputRows"] = nhsRows;
        Lap("nhsOutput");

        PermissionSnapshot? previousSnapshot = null;
        if (previous?.Outputs.TryGetValue("permissionSnapshot", out var prevPath) == true)
        {
            var prevBlob = processorInbox.GetBlobClient(prevPath[(TtpStorage.ProcessorInbox.Length + 1)..]);
            await using var s = await prevBlob.OpenReadAsync(cancellationToken: cancellationToken);
            previousSnapshot = await PermissionSnapshot.ReadAsync(s, cancellationToken);
        }

        string delta = TtpStorage.Delta(study, version, fileDate);
        long deltaRows = 0;
        await WriteTextAtomicallyAsync(nhse, delta, w =>
        {
            deltaRows = TtpOutputFormats.WriteDelta(participants, previousSnapshot, study, version, fileDate, keyVersion, w);
            return Task.CompletedTask;
        }, cancellationToken);
        outputs["delta"] = $"{TtpStorage.NhseOutbox}/{delta}";
        counts["deltaRows"] = deltaRows;
        Lap("delta");

        counts["registryChanges"] = await registry.ApplyAsync(study, version, etag.ToString(), fileDate, participants, cancellationToken);
        Lap("registry");
        (counts["crossStudyLinks"], counts["crossStudyLinksRemoved"]) = await LinkAcrossStudiesAsync(study, participants, cancellationToken);
        Lap("crossStudyLinks");

        var record = new File1VersionRecord
        {
            Id = recordId,
            Study = study,
            Version = version,
            FileName = fileName,
            FileDate = fileDate,
            SourceBlob = $"{TtpStorage.File1Inbox}/{blob.Name}",
            SourceETag = etag.ToString(),
            State = "Accepted",
            Rows = collected.Report.Rows,
            Participants = collected.Report.Participants,
            Errors = collected.Report.ErrorCount,
            Warnings = collected.Report.WarningCount,
            TokenKeyVersion = keyVersion,
            Outputs = outputs,
            Counts = counts,
            Seconds = seconds,
            ProcessedAt = time.GetUtcNow(),
        };
        await versions.UpsertAsync(record, cancellationToken);
        await MoveAsync(blob, etag, TtpStorage.File1Archive, cancellationToken);
        logger.LogInformation(
            "Accepted File 1 {Study} v{Version}: {Rows} rows, {Participants} participants, {NhsRows} NHS Output rows, {DeltaRows} delta rows",
            study, version, record.Rows, record.Participants, nhsRows, deltaRows);
        return record;
    }

    private async Task<File1VersionRecord> RejectAsync(BlobClient blob, ETag etag, string partition, string recordId, string fileName, File1CheckReport report, CancellationToken cancellationToken)
    {
        string reportJson = File1CheckReportJson.ToJson(report);
        var quarantine = await ContainerAsync(TtpStorage.File1Quarantine, cancellationToken);
        await quarantine.GetBlobClient(blob.Name + ".report.json").UploadAsync(BinaryData.FromString(reportJson), overwrite: true, cancellationToken);
        var reports = await ContainerAsync(TtpStorage.ProviderReports, cancellationToken);
        await reports.GetBlobClient(blob.Name + ".report.json").UploadAsync(BinaryData.FromString(reportJson), overwrite: true, cancellationToken);

        var record = new File1VersionRecord
        {
            Id = recordId,
            Study = partition,
            Version = report.Version,
            FileName = fileName,
            FileDate = report.FileDate,
            SourceBlob = $"{TtpStorage.File1Inbox}/{blob.Name}",
            SourceETag = etag.ToString(),
            State = "Rejected",
            Rows = report.Rows,
            Participants = report.Participants,
            Errors = report.ErrorCount,
            Warnings = report.WarningCount,
            Outputs = new Dictionary<string, string>
            {
                ["quarantined"] = $"{TtpStorage.File1Quarantine}/{blob.Name}",
                ["report"] = $"{TtpStorage.ProviderReports}/{blob.Name}.report.json",
            },
            ProcessedAt = time.GetUtcNow(),
        };
        await versions.UpsertAsync(record, cancellationToken);
        await MoveAsync(blob, etag, TtpStorage.File1Quarantine, cancellationToken);
        logger.LogWarning("Rejected File 1 {Blob}: {Errors} errors, {Warnings} warnings; quarantined with its report", blob.Name, report.ErrorCount, report.WarningCount);
        return record;
    }

    /// <summary>
    /// Records, in the TTP zone only, the same person found in two studies (same link key), as documents in
    /// <c>ttp-links</c> keyed by the link key's hex form, and removes the links its previous file supported and this one
    /// does not. Writes this study's link index for later files. Returns the links found and removed.
    /// </summary>
    private async Task<(long Found, long Removed)> LinkAcrossStudiesAsync(string study, IReadOnlyList<Participant> participants, CancellationToken cancellationToken)
    {
        var registryContainer = await ContainerAsync(TtpStorage.Registry, cancellationToken);
        var index = LinkIndex.From(study, participants);
        var links = await cosmos.ContainerAsync(LinksContainerId, "/id", cancellationToken);

        // A link holds only while both studies' current rows support it. Pairs of the study's previous index that the
        // new one lacks (the person left, or their NHS number or date of birth was corrected) are unlinked first, before
        // the new index replaces the previous one, so a retry after a crash here still sees what to unlink.
        long removed = 0;
        var indexBlob = registryContainer.GetBlobClient(TtpStorage.LinkIndex(study));
        if (await TryReadLinkIndexAsync(indexBlob, study, cancellationToken) is { } previous)
        {
            foreach (var (linkKey, token) in previous.Except(index))
            {
                removed += await UnlinkAsync(links, linkKey, study, token.ToString(), cancellationToken) ? 1 : 0;
            }
        }

        await using (var w = new AtomicBlobWriter(registryContainer.GetBlockBlobClient(TtpStorage.LinkIndex(study))))
        {
            await index.WriteAsync(w, cancellationToken);
            await w.CommitAsync(cancellationToken: cancellationToken);
        }

        long found = 0;
        await foreach (var item in registryContainer.GetBlobsAsync(BlobTraits.None, BlobStates.None, "links/", cancellationToken))
        {
            string other = Path.GetFileNameWithoutExtension(item.Name);
            if (other == study)
            {
                continue;
            }

            var otherIndex = await ReadLinkIndexAsync(registryContainer.GetBlobClient(item.Name), other, cancellationToken);

            foreach (var (linkKey, mine, theirs) in index.Join(otherIndex))
            {
                await UpsertLinkAsync(links, linkKey, (study, mine.ToString()), (other, theirs.ToString()), cancellationToken);
                found++;
            }
        }

        return (found, removed);
    }

    private static async Task<LinkIndex?> TryReadLinkIndexAsync(BlobClient blob, string study, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadLinkIndexAsync(blob, study, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null; // the study's first accepted file
        }
    }

    /// <summary>Takes the study's member out of a link; a link left with fewer than two studies is deleted. True if it changed.</summary>
    private static async Task<bool> UnlinkAsync(Container links, UInt128 linkKey, string study, string token, CancellationToken cancellationToken)
    {
        string id = linkKey.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
        var pk = new PartitionKey(id);
        for (int attempt = 1; ; attempt++)
        {
            ItemResponse<CrossStudyLink> read;
            try
            {
                read = await links.ReadItemAsync<CrossStudyLink>(id, pk, cancellationToken: cancellationToken);
            }
            catch (CosmosException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return false;
            }

            var link = read.Resource;
            if (link.Members.RemoveAll(m => m.Study == study && m.Token == token) == 0)
            {
                return false; // a newer token of this study already replaced it
            }

            try
            {
                var conditions = new ItemRequestOptions { IfMatchEtag = read.ETag };
                if (link.Members.Count < 2)
                {
                    await links.DeleteItemAsync<CrossStudyLink>(id, pk, conditions, cancellationToken);
                }
                else
                {
                    await links.ReplaceItemAsync(link, id, pk, conditions, cancellationToken);
                }

                return true;
            }
            catch (CosmosException e) when (e.StatusCode is System.Net.HttpStatusCode.PreconditionFailed or System.Net.HttpStatusCode.NotFound && attempt < 10)
            {
                // Another study's intake changed the link meanwhile: read it again.
            }
        }
    }

    /// <summary>
    /// Reads another study's link index. That study's own intake may replace it while it is read (the read stream is
    /// pinned to the version it opened, so it then fails with 412); read the new version instead of failing this file.
    /// </summary>
    private static async Task<LinkIndex> ReadLinkIndexAsync(BlobClient blob, string study, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var s = await blob.OpenReadAsync(cancellationToken: cancellationToken);
                return await LinkIndex.ReadAsync(study, s, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken);
            }
        }
    }

    private static Task UpsertLinkAsync(Container links, UInt128 linkKey, (string Study, string Token) a, (string Study, string Token) b, CancellationToken cancellationToken)
    {
        string id = linkKey.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
        return links.UpdateAsync<CrossStudyLink>(id, new PartitionKey(id), link =>
        {
            link ??= new CrossStudyLink { Id = id };
            bool changed = false;
            foreach (var (s, t) in new[] { a, b })
            {
                if (!link.Members.Any(m => m.Study == s && m.Token == t))
                {
                    link.Members.RemoveAll(m => m.Study == s); // a study's newer token for the person replaces the old
                    link.Members.Add(new CrossStudyLink.Member(s, t));
                    changed = true;
                }
            }

            return changed ? link : null;
        }, cancellationToken);
    }

    /// <summary>Deletes whatever outputs an interrupted attempt at a file wrote (their names are fixed by study, version and date).</summary>
    private async Task WithdrawOutputsAsync(string study, int version, DateOnly fileDate, CancellationToken cancellationToken)
    {
        var processorInbox = await ContainerAsync(TtpStorage.ProcessorInbox, cancellationToken);
        var nhse = await ContainerAsync(TtpStorage.NhseOutbox, cancellationToken);
        foreach (var (container, name) in new[]
        {
            (processorInbox, TtpStorage.IdMapping(study, version, fileDate)),
            (processorInbox, TtpStorage.PermissionSnapshot(study, version, fileDate)),
            (nhse, TtpStorage.NhsOutput(study, version, fileDate)),
            (nhse, TtpStorage.Delta(study, version, fileDate)),
        })
        {
            if ((await container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken)).Value)
            {
                logger.LogWarning("Withdrew {Container}/{Blob}, written by an interrupted attempt at a file that is now refused", container.Name, name);
            }
        }
    }

    /// <summary>The national opt-out list, or null when none has been uploaded (only files with no s251 participant may then proceed).</summary>
    private async Task<NationalOptOutList?> LoadOptOutListAsync(CancellationToken cancellationToken)
    {
        var config = await ContainerAsync(TtpStorage.Config, cancellationToken);
        var blob = config.GetBlobClient(TtpStorage.NationalOptOutBlob);
        try
        {
            await using var s = await blob.OpenReadAsync(cancellationToken: cancellationToken);
            var list = await NationalOptOutList.ReadAsync(s, cancellationToken);
            if (list.InvalidLines > 0)
            {
                logger.LogWarning("The national opt-out list has {Invalid} lines that are not valid NHS numbers; they were not applied", list.InvalidLines);
            }

            return list;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            logger.LogWarning("No national opt-out list at {Container}/{Blob}; files with s251 participants are held until it is uploaded", TtpStorage.Config, TtpStorage.NationalOptOutBlob);
            return null;
        }
    }

    private static async Task<Stream> OpenVersionAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken) =>
        await PrefetchingBlobReadStream.OpenAsync(blob, etag, cancellationToken: cancellationToken);

    private async Task<BlobContainerClient> ContainerAsync(string name, CancellationToken cancellationToken)
    {
        var c = blobs.GetBlobContainerClient(name);
        await c.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return c;
    }

    private static async Task WriteTextAtomicallyAsync(BlobContainerClient container, string name, Func<TextWriter, Task> write, CancellationToken cancellationToken)
    {
        await using var blobStream = new AtomicBlobWriter(container.GetBlockBlobClient(name));
        await using (var writer = new StreamWriter(blobStream, new UTF8Encoding(false), 64 * 1024, leaveOpen: true))
        {
            await write(writer);
        }

        await blobStream.CommitAsync(new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, cancellationToken: cancellationToken);
    }

    private Task MoveAsync(BlobClient blob, ETag etag, string targetContainer, CancellationToken cancellationToken) =>
        blob.MoveToAsync(etag, blobs.GetBlobContainerClient(targetContainer), cancellationToken);
}

/// <summary>The same person found in several studies (TTP zone only): link key (keyed hash) → study tokens.</summary>
public sealed record CrossStudyLink
{
    public required string Id { get; init; }

    public List<Member> Members { get; init; } = [];

    public sealed record Member(string Study, string Token);
}

/// <summary>A File 1 with s251 participants arrived before any national opt-out list was uploaded; it is retried, never processed without one.</summary>
public sealed class NationalOptOutListMissingException(string message) : InvalidOperationException(message);
