using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;
using Linkage.Permissions;
using Linkage.Ttp;

namespace Linkage.Functions.Ttp;

/// <summary>
/// What one File 1 needs to stage its outputs. <see cref="Revision"/> &gt; 0 stages a new revision of an accepted version
/// (re-read with a newer national opt-out list, or a corrected file re-sent under the same name; decision 0801): then
/// <see cref="Previous"/> is that version's own record (its current baseline is the delta's "before"), and every output
/// is written under the revision's names, so nothing an earlier revision wrote (and a quarter may have delivered) changes.
/// </summary>
public sealed record File1StageRequest(
    BlobClient Source, ETag SourceETag, string Study, int Version, DateOnly FileDate, string KeyVersion,
    IReadOnlyList<Participant> Participants, TtpFile1Processor Processor, File1VersionRecord? Previous, int Revision = 0);

/// <summary>The staged outputs of a File 1: where each is and what it holds, recorded in its version record at the commit.</summary>
public sealed record File1StagedOutputs(IReadOnlyDictionary<string, ManifestFile> Files, IReadOnlyDictionary<string, long> Counts);

/// <summary>
/// Stages a File 1's outputs under their deterministic names: ID mapping file and permission snapshot for the processor,
/// NHS Output and delta for NHS England, and for the TTP itself the baseline snapshot (the next delta's "before") and
/// the staged link index. Staged files are in place but not in force: readers find them only through a committed record's
/// manifests. <see cref="WithdrawUncommittedAsync"/> deletes whatever no committed record names.
/// </summary>
public sealed class File1OutputWriter(BlobServiceClient blobs, TimeProvider time, Hosting.ProcessorInbox? processorInbox = null)
{
    /// <summary>Output keys of <see cref="File1VersionRecord.Outputs"/> and <see cref="File1VersionRecord.Files"/>.</summary>
    public static class Keys
    {
        public const string IdMapping = "idMapping";
        public const string PermissionSnapshot = "permissionSnapshot";
        public const string Baseline = "baseline";
        public const string NhsOutput = "nhsOutput";
        public const string Delta = "delta";
        public const string LinkIndex = "linkIndex";
    }

    public async Task<File1StagedOutputs> StageAsync(File1StageRequest r, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, ManifestFile>();
        var counts = new Dictionary<string, long>();
        var inbox = await ContainerAsync(TtpStorage.ProcessorInbox, cancellationToken);
        var nhse = await ContainerAsync(TtpStorage.NhseOutbox, cancellationToken);
        var registry = await ContainerAsync(TtpStorage.Registry, cancellationToken);

        // To the processor: no identifiers.
        files[Keys.IdMapping] = await WriteTextAsync(inbox, TtpStorage.IdMapping(r.Study, r.Version, r.FileDate, r.Revision),
            w => { TtpOutputFormats.WriteIdMapping(r.Participants, r.Study, r.Version, r.KeyVersion, w); return Task.CompletedTask; }, cancellationToken);

        var snapshot = TtpOutputFormats.SnapshotOf(r.Participants, new PermissionSnapshotHeader(r.Study, r.Version, r.KeyVersion, time.GetUtcNow()));
        files[Keys.PermissionSnapshot] = await WriteBinaryAsync(inbox, TtpStorage.PermissionSnapshot(r.Study, r.Version, r.FileDate, r.Revision), snapshot.WriteAsync, cancellationToken);

        // The TTP's own copies: the baseline of the next delta, and the link index cross-study linking publishes.
        files[Keys.Baseline] = await WriteBinaryAsync(registry, TtpStorage.Baseline(r.Study, r.Version, r.FileDate, r.Revision), snapshot.WriteAsync, cancellationToken);
        var links = LinkIndex.From(r.Study, r.Participants);
        files[Keys.LinkIndex] = await WriteBinaryAsync(registry, TtpStorage.StagedLinkIndex(r.Study, r.Version, r.FileDate, r.Revision), links.WriteAsync, cancellationToken);

        // To NHS England: identifiers, TTP zone only.
        long nhsRows = 0;
        files[Keys.NhsOutput] = await WriteTextAsync(nhse, TtpStorage.NhsOutput(r.Study, r.Version, r.FileDate, r.Revision), async w =>
        {
            await using var read = await PrefetchingBlobReadStream.OpenAsync(r.Source, r.SourceETag, cancellationToken: cancellationToken);
            nhsRows = await r.Processor.WriteNhsOutputAsync(read, r.Study, r.Participants, w, cancellationToken);
        }, cancellationToken);
        counts["nhsOutputRows"] = nhsRows;

        var before = await ReadBaselineAsync(registry, r.Previous, cancellationToken);
        long deltaRows = 0;
        var changes = new Dictionary<string, long>();
        files[Keys.Delta] = await WriteTextAsync(nhse, TtpStorage.Delta(r.Study, r.Version, r.FileDate, r.Revision), w =>
        {
            deltaRows = TtpOutputFormats.WriteDelta(r.Participants, before, r.Study, r.Version, r.FileDate, r.KeyVersion, w, changes);
            return Task.CompletedTask;
        }, cancellationToken);
        counts["deltaRows"] = deltaRows;
        foreach (var (key, n) in changes)
        {
            counts[key] = n; // every change, for the record and the quarter report (the delta carries only what NHS England acts on)
        }
        return new File1StagedOutputs(files, counts);
    }

    /// <summary>
    /// Deletes every output of <paramref name="study"/> that no committed record names: what an attempt that never
    /// committed (crashed, poisoned, held, or refused on retry) left behind. Returns the names withdrawn.
    /// </summary>
    public async Task<IReadOnlyList<string>> WithdrawUncommittedAsync(string study, IEnumerable<File1VersionRecord> committed, CancellationToken cancellationToken)
    {
        // Every revision's files are kept: a quarter may have delivered any of them.
        var keep = committed.SelectMany(c => c.Files.Values.Concat(c.Revisions.SelectMany(r => r.Files.Values)).Select(f => f.Name)).ToHashSet(StringComparer.Ordinal);
        var withdrawn = new List<string>();
        foreach (var (container, prefix) in StudyPrefixes(study))
        {
            var client = Container(container);
            if (!await client.ExistsAsync(cancellationToken))
            {
                continue;
            }

            await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                string path = $"{container}/{item.Name}";
                if (!keep.Contains(path) && (await client.GetBlobClient(item.Name).DeleteIfExistsAsync(cancellationToken: cancellationToken)).Value)
                {
                    withdrawn.Add(path);
                }
            }
        }

        return withdrawn;
    }

    /// <summary>Where a study's outputs live: every (container, prefix) that <see cref="StageAsync"/> writes under.</summary>
    public static IEnumerable<(string Container, string Prefix)> StudyPrefixes(string study) =>
    [
        (TtpStorage.ProcessorInbox, $"id-mapping/{study}/"),
        (TtpStorage.ProcessorInbox, $"permissions/{study}/"),
        (TtpStorage.NhseOutbox, $"nhs-output/{study}/"),
        (TtpStorage.NhseOutbox, $"delta/{study}/"),
        (TtpStorage.Registry, $"baselines/{study}/"),
        (TtpStorage.Registry, $"links-staged/{study}/"),
    ];

    /// <summary>The previous committed version's baseline, from the TTP's own store (never the processor's copy).</summary>
    private async Task<PermissionSnapshot?> ReadBaselineAsync(BlobContainerClient registry, File1VersionRecord? previous, CancellationToken cancellationToken)
    {
        if (previous is null)
        {
            return null;
        }

        if (!previous.Files.TryGetValue(Keys.Baseline, out var baseline))
        {
            throw new InvalidOperationException($"{previous.Study} v{previous.Version} has no baseline snapshot in the TTP's store; the delta cannot be computed.");
        }

        await using var hashing = new Sha256ReadStream(await registry.GetBlobClient(BlobName(baseline.Name)).OpenReadAsync(cancellationToken: cancellationToken));
        var snapshot = await PermissionSnapshot.ReadAsync(hashing, cancellationToken);
        if (await hashing.FinishAsync(cancellationToken) != baseline.Sha256)
        {
            throw new InvalidOperationException($"The baseline of {previous.Study} v{previous.Version} is not the file its record names (SHA-256 differs).");
        }

        return snapshot;
    }

    /// <summary>The blob name within its container, from a <c>container/name</c> path.</summary>
    public static string BlobName(string path) => path[(path.IndexOf('/', StringComparison.Ordinal) + 1)..];

    private async Task<ManifestFile> WriteTextAsync(BlobContainerClient container, string name, Func<TextWriter, Task> write, CancellationToken cancellationToken)
    {
        await using var blob = new AtomicBlobWriter(container.GetBlockBlobClient(name), computeSha256: true);
        await using (var writer = new StreamWriter(blob, new UTF8Encoding(false), 64 * 1024, leaveOpen: true))
        {
            await write(writer);
        }

        await blob.CommitAsync(new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, cancellationToken: cancellationToken);
        return new ManifestFile($"{container.Name}/{name}", blob.Length, blob.Sha256);
    }

    private static async Task<ManifestFile> WriteBinaryAsync(BlobContainerClient container, string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        await using var blob = new AtomicBlobWriter(container.GetBlockBlobClient(name), computeSha256: true);
        await write(blob, cancellationToken);
        await blob.CommitAsync(cancellationToken: cancellationToken);
        return new ManifestFile($"{container.Name}/{name}", blob.Length, blob.Sha256);
    }

    private async Task<BlobContainerClient> ContainerAsync(string name, CancellationToken cancellationToken)
    {
        var c = Container(name);
        await c.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return c;
    }

    /// <summary>The processor's inbox may be in another account (the TRE's, <see cref="Hosting.StorageOptions.ProcessorInboxServiceUri"/>).</summary>
    private BlobContainerClient Container(string name) =>
        name == TtpStorage.ProcessorInbox && processorInbox is not null ? processorInbox.Container : blobs.GetBlobContainerClient(name);
}
