using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;
using Linkage.File2;
using Linkage.Functions.Catalogue;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Workflows;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Provisioning;

namespace Linkage.Functions.Provisioning;

/// <summary>What provisioning one dataset to a project did (<see cref="Reason"/> says why a dataset was not provisioned, when that is not plain from the outcome).</summary>
public sealed record DatasetProvisionResult(string DatasetId, string Outcome, int? Version, string? File, long Rows, long RowsRetained, long? Participants)
{
    public string? Reason { get; init; }
}

/// <summary>The project has ended: nothing is provisioned to it again.</summary>
public sealed class ProjectEndedException(string projectId) : InvalidOperationException($"Project {projectId} has ended; nothing is provisioned to it.");

/// <summary>
/// Provisioning's two steps (decision 0701): freeze the project's cohort once, then write each approved dataset's latest
/// released version as the project's file: rows of people permitted now, re-keyed to the project's keys, plus the rows
/// the project already held of people no longer permitted. Each file is staged and committed by its record, so a re-run
/// of the same version changes nothing and a failed one leaves nothing visible; a run killed after the file's commit but
/// before its record's finds the file (its pending record, by commit id) and commits the record without rewriting it.
/// </summary>
public sealed class ProjectProvisioner(
    BlobServiceClient blobs, ProjectStore store, CurationCatalogue catalogue, DatasetSpecs specs, PermissionSnapshotSource permissions, KeyRingProvider keys, TimeProvider time, IStepFaults faults, ILogger<ProjectProvisioner> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>TRE-internal: cohorts are TRE ids, which must never reach a project's own container.</summary>
    public const string CohortContainer = "tre-projects";

    public static string CohortBlob(string projectId) => $"{projectId}/cohort.bin";

    /// <summary>
    /// A file's record as it will be committed (without its SHA-256), written beside the cohort before the file's blob
    /// is committed: a run killed between the blob's commit and the record's finds both and commits the record without
    /// writing the file again.
    /// </summary>
    public static string PendingFileBlob(string projectId, string fileId) => $"{projectId}/pending-files/{fileId}.json";

    /// <summary>The blob metadata that ties a committed project file to its pending record.</summary>
    private const string CommitMetadata = "commit";

    /// <summary>Freezes the cohort at first provisioning: the approved studies' participants active now, as sorted TRE ids. Idempotent.</summary>
    public async Task<ProjectDocument> FreezeCohortAsync(string projectId, CancellationToken cancellationToken)
    {
        var project = await ActiveAsync(projectId, cancellationToken);
        var blob = blobs.GetBlobContainerClient(CohortContainer).GetBlobClient(CohortBlob(projectId));
        await blobs.GetBlobContainerClient(CohortContainer).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        if (!(await blob.ExistsAsync(cancellationToken)).Value)
        {
            var ids = await TreIdsAsync(project.Studies, flags => (flags & PermissionFlags.Active) != 0, cancellationToken); // withdrawn before the freeze: never in it
            try
            {
                // Written once: a concurrent or later run finds it and keeps it (the cohort never changes).
                await blob.UploadAsync(new BinaryData(ids), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
            }
        }

        long size = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength / 16;
        var frozen = time.GetUtcNow();
        return await store.UpdateAsync(projectId, p => p.CohortFrozenAt is null ? p with { CohortFrozenAt = frozen, CohortSize = (int)size } : null, cancellationToken) ?? project;
    }

    /// <summary>Provisions one dataset's latest released version to the project (see the class summary).</summary>
    public async Task<DatasetProvisionResult> ProvisionDatasetAsync(string projectId, string datasetId, CancellationToken cancellationToken)
    {
        var project = await ActiveAsync(projectId, cancellationToken);
        if (!specs.TryGet(datasetId, out var spec))
        {
            return new DatasetProvisionResult(datasetId, "UnknownDataset", null, null, 0, 0, null);
        }

        var released = await catalogue.ReleasedVersionsAsync(datasetId, cancellationToken);
        if (released.Count == 0)
        {
            return new DatasetProvisionResult(datasetId, "NoReleasedVersion", null, null, 0, 0, null);
        }

        var version = released[^1];
        if (await store.GetFileAsync(projectId, datasetId, version.Version, cancellationToken) is { } done)
        {
            return Unchanged(done);
        }

        // One writer of a project's file at a time (a refresh and an admin's provisioning, or two refreshes, may run at
        // once): concurrent runs would each stage and commit the same blob, rewriting a file already handed over, and
        // fail one another's block lists. The others wait on the lease, then find the record.
        await using var writing = await FileWriteLease.AcquireAsync(
            blobs.GetBlobContainerClient(CohortContainer), $"{projectId}/file-locks/{ProjectFileDocument.IdFor(datasetId, version.Version)}", cancellationToken);
        if (await store.GetFileAsync(projectId, datasetId, version.Version, cancellationToken) is { } written)
        {
            return Unchanged(written);
        }

        // Reviewers released it on condition that cells be suppressed (decision 0702): every cell must read as a cell of
        // this spec's marginals, or the version is not provisioned at all (the previous file, if any, stays the project's).
        CellSuppression? suppression = null;
        if (version.Suppressions.Count > 0)
        {
            try
            {
                suppression = SuppressionFor(spec, version);
            }
            catch (CellSuppressionException e)
            {
                return Unsuppressible(projectId, version, e);
            }
        }

        string name = ProjectFileWriter.FileName(datasetId, version.Version, version.VersionDate);
        var container = blobs.GetBlobContainerClient(ProjectStorage.Container(projectId));
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var pending = blobs.GetBlobContainerClient(CohortContainer).GetBlobClient(PendingFileBlob(projectId, ProjectFileDocument.IdFor(datasetId, version.Version)));
        if (await CommittedWithoutRecordAsync(container.GetBlobClient(name), pending, cancellationToken) is { } committed)
        {
            // An earlier run committed the file and died before its record: the file stays as it is (written once).
            return await CommitRecordAsync(committed, pending, cancellationToken);
        }

        using var treId = await CipherAsync(KeyPurposes.ProcessorId, version.IdKeyVersion, cancellationToken);
        using var treGeo = await CipherAsync(KeyPurposes.TreGeography, version.GeographyKeyVersion, cancellationToken);
        using var projectIdCipher = await keys.GetCipherAsync(KeyPurposes.ProjectId(projectId), cancellationToken);
        using var projectGeo = await keys.GetCipherAsync(KeyPurposes.ProjectGeography(projectId), cancellationToken);

        bool people = spec.Kind == DatasetKind.Participant;
        AllowedParticipants? permittedNow = null;
        byte[] permittedBlocks = [];
        if (people)
        {
            var cohort = await CohortAsync(projectId, cancellationToken);
            var now = await TreIdsAsync(project.Studies, flags => Permits(spec, flags), cancellationToken);
            permittedBlocks = Intersect(cohort, now);
            permittedNow = AllowedParticipants.FromBlocks(permittedBlocks);
        }

        using var permittedTable = permittedNow; // frees its native table at the end of this file (null for reference data)

        var writer = new ProjectFileWriter(spec, people ? treId : null, people ? projectIdCipher : null, treGeo, projectGeo);
        await using var output = new AtomicBlobWriter(container.GetBlockBlobClient(name), computeSha256: true);
        ProjectFileResult result;
        try
        {
            await using var curated = await OpenAsync(version.DataFile!, cancellationToken);
            result = await writer.WriteAsync(curated, output, permittedNow, cancellationToken, computeSha256: false, suppression); // the blob writer hashes the whole file, retained rows included
        }
        catch (CellSuppressionException e)
        {
            return Unsuppressible(projectId, version, e); // the staged blocks are never committed
        }

        long retained = people ? await AppendRetainedAsync(projectId, spec, version, permittedBlocks, treId, projectIdCipher, output, cancellationToken) : 0;
        string commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var file = new ProjectFileDocument
        {
            Id = ProjectFileDocument.IdFor(datasetId, version.Version),
            ProjectId = projectId,
            Name = name,
            DatasetId = datasetId,
            Version = version.Version,
            VersionDate = version.VersionDate,
            Rows = result.RowsWritten + retained,
            RowsRetained = retained,
            Participants = result.ParticipantsWritten,
            CreatedAt = time.GetUtcNow(),
            IdKeyVersion = people ? projectIdCipher.KeyVersion : null,
            GeographyKeyVersion = projectGeo.KeyVersion,
            Suppressions = [.. result.SuppressedCells.Select(c => new ProjectFileSuppression(c.Cell.Item, c.Cell.Marginal, c.Cell.Cell, SmallCounts.Mask(c.Rows)))],
            RowsSuppressed = suppression is null ? null : SmallCounts.Mask(result.RowsSuppressed),
        };
        await blobs.GetBlobContainerClient(CohortContainer).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await pending.UploadAsync(BinaryData.FromObjectAsJson(new PendingProjectFile(commit, file), Json), overwrite: true, cancellationToken);
        await output.CommitAsync(new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, new Dictionary<string, string>
        {
            ["dataset"] = datasetId,
            ["version"] = version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [CommitMetadata] = commit,
        }, cancellationToken);
        await faults.ReachedAsync(WorkflowSteps.ProjectFileCommitted, cancellationToken);
        return await CommitRecordAsync(file with { Sha256 = output.Sha256 }, pending, cancellationToken);
    }

    private static DatasetProvisionResult Unchanged(ProjectFileDocument done) =>
        new(done.DatasetId, "Unchanged", done.Version, done.Name, done.Rows, done.RowsRetained, done.Participants);

    private async Task<DatasetProvisionResult> CommitRecordAsync(ProjectFileDocument file, BlobClient pending, CancellationToken cancellationToken)
    {
        await store.CommitFileAsync(file, cancellationToken);
        await pending.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        logger.LogInformation("Provisioned {Dataset} v{Version} to {Project}: {Rows} rows ({Retained} retained)", file.DatasetId, file.Version, file.ProjectId, file.Rows, file.RowsRetained);
        return new DatasetProvisionResult(file.DatasetId, "Provisioned", file.Version, file.Name, file.Rows, file.RowsRetained, file.Participants);
    }

    /// <summary>
    /// The record of a file an earlier run committed without committing its record (a crash between the two): the
    /// blob's commit id matches its pending record, and the SHA-256 is read from the blob itself. Null otherwise.
    /// </summary>
    private static async Task<ProjectFileDocument?> CommittedWithoutRecordAsync(BlobClient file, BlobClient pending, CancellationToken cancellationToken)
    {
        BlobProperties properties;
        PendingProjectFile? record;
        try
        {
            properties = (await file.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            if (!properties.Metadata.TryGetValue(CommitMetadata, out var commit))
            {
                return null;
            }

            record = (await pending.DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<PendingProjectFile>(Json);
            if (record is null || record.Commit != commit)
            {
                return null;
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }

        await using var content = await file.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } }, cancellationToken);
        return record.File with { Sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken)) };
    }

    /// <summary>A file's record before its blob is committed, and the commit id the blob will carry.</summary>
    private sealed record PendingProjectFile(string Commit, ProjectFileDocument File);

    /// <summary>
    /// The version's suppressed cells read against the spec. The cells were named by the risk report of the spec the
    /// version was curated under: a spec changed since could derive cells differently, so it fails closed too.
    /// </summary>
    private static CellSuppression SuppressionFor(DatasetSpec spec, DatasetVersionDocument version)
    {
        if (version.SpecSha256 is { } curatedUnder && !string.Equals(curatedUnder, spec.SpecSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new CellSuppressionException($"Version {version.Version} was curated under another spec (SHA-256 {curatedUnder}) than the current one ({spec.SpecSha256}): its cells may not be this spec's cells.");
        }

        return CellSuppression.Create(spec, version.Suppressions.Select(c => new SuppressionCell(c.Item, c.Marginal, c.Cell)));
    }

    private DatasetProvisionResult Unsuppressible(string projectId, DatasetVersionDocument version, CellSuppressionException e)
    {
        logger.LogError("{Dataset} v{Version} not provisioned to {Project}: its suppressed cells cannot be applied: {Reason}", version.DatasetId, version.Version, projectId, e.Message);
        return new DatasetProvisionResult(version.DatasetId, "SuppressionNotApplicable", version.Version, null, 0, 0, null) { Reason = e.Message };
    }

    /// <summary>
    /// Appends the rows of the project's previous file of this dataset whose person is no longer permitted (they keep
    /// what they held, decision 0701). Their ids are already under the project key: the pass keeps them as they are.
    /// </summary>
    private async Task<long> AppendRetainedAsync(string projectId, DatasetSpec spec, DatasetVersionDocument version, byte[] permittedTreIds, BlockTokenCipher treId, BlockTokenCipher projectIdCipher, Stream output, CancellationToken cancellationToken)
    {
        var previous = (await store.FilesAsync(projectId, cancellationToken)).Where(f => f.DatasetId == spec.DatasetId && f.Version < version.Version).MaxBy(f => f.Version);
        if (previous is null)
        {
            return 0;
        }

        // The permitted people as project ids (TRE id → inner token → project id, as the writer transcodes), to judge the
        // previous file's rows in its own key space.
        var projectBlocks = new byte[permittedTreIds.Length];
        treId.DecryptBlocks(permittedTreIds, projectBlocks);
        projectIdCipher.EncryptBlocks(projectBlocks, projectBlocks);
        string idColumn = spec.Columns.First(c => c.Rule == ColumnRule.EncryptId).OutputName;
        var rewriter = new CsvTokenRewriter([TokenColumnRule.Transcode(idColumn, projectIdCipher, projectIdCipher)], rowFilter: new NotPermittedFilter(idColumn, projectBlocks));
        var blob = blobs.GetBlobContainerClient(ProjectStorage.Container(projectId)).GetBlobClient(previous.Name);
        await using var input = (await blob.OpenReadAsync(cancellationToken: cancellationToken));
        using var reader = new StreamReader(input, new UTF8Encoding(false, true));
        await using var skipHeader = new SkipFirstLineStream(output);
        await using var text = new StreamWriter(skipHeader, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        var summary = await rewriter.RewriteAsync(reader, text, cancellationToken);
        await text.FlushAsync(cancellationToken);
        return summary.RowsWritten;
    }

    private static bool Permits(DatasetSpec spec, PermissionFlags flags) =>
        (flags & PermissionFlags.Active) != 0
        && !(spec.NationalOptOutApplies && (flags & PermissionFlags.NationalOptOutApplies) != 0)
        && (flags & spec.RequiredPermissions) == spec.RequiredPermissions;

    /// <summary>TRE ids (sorted, distinct 16-byte blocks) of the studies' participants whose current flags pass <paramref name="keep"/>.</summary>
    private async Task<byte[]> TreIdsAsync(IReadOnlyList<string> studies, Func<PermissionFlags, bool> keep, CancellationToken cancellationToken)
    {
        var snapshots = (await permissions.LoadLatestSnapshotsAsync(cancellationToken)).Where(s => studies.Contains(s.Header.StudyCode, StringComparer.Ordinal)).ToList();
        var ttp = new List<TokenBytes>();
        foreach (var snapshot in snapshots)
        {
            ttp.AddRange(snapshot.Entries().Where(e => keep(e.Flags)).Select(e => e.Token));
        }

        var blocks = new byte[ttp.Count * 16];
        for (int i = 0; i < ttp.Count; i++)
        {
            ttp[i].WriteBytes(blocks.AsSpan(i * 16, 16));
        }

        using var treId = await keys.GetCipherAsync(KeyPurposes.ProcessorId, cancellationToken);
        treId.EncryptBlocks(blocks, blocks); // TTP token → TRE id, as the File 2 intake does
        return SortDistinct(blocks);
    }

    private async Task<byte[]> CohortAsync(string projectId, CancellationToken cancellationToken)
    {
        var blob = blobs.GetBlobContainerClient(CohortContainer).GetBlobClient(CohortBlob(projectId));
        if (!(await blob.ExistsAsync(cancellationToken)).Value)
        {
            throw new InvalidOperationException($"Project {projectId} has no frozen cohort; provisioning freezes it first.");
        }

        return (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
    }

    private static byte[] SortDistinct(byte[] blocks)
    {
        var list = Enumerable.Range(0, blocks.Length / 16).Select(i => TokenBytes.FromBytes(blocks.AsSpan(i * 16, 16))).Distinct().Order().ToList();
        var sorted = new byte[list.Count * 16];
        for (int i = 0; i < list.Count; i++)
        {
            list[i].WriteBytes(sorted.AsSpan(i * 16, 16));
        }

        return sorted;
    }

    private static byte[] Intersect(byte[] sortedA, byte[] sortedB)
    {
        var b = Enumerable.Range(0, sortedB.Length / 16).Select(i => TokenBytes.FromBytes(sortedB.AsSpan(i * 16, 16))).ToHashSet();
        var keep = Enumerable.Range(0, sortedA.Length / 16).Select(i => TokenBytes.FromBytes(sortedA.AsSpan(i * 16, 16))).Where(b.Contains).ToList();
        var result = new byte[keep.Count * 16];
        for (int i = 0; i < keep.Count; i++)
        {
            keep[i].WriteBytes(result.AsSpan(i * 16, 16));
        }

        return result;
    }

    private async Task<ProjectDocument> ActiveAsync(string projectId, CancellationToken cancellationToken) =>
        await store.GetAsync(projectId, cancellationToken) switch
        {
            null => throw new InvalidOperationException($"No project has the id {projectId}."),
            { State: ProjectState.Ended } => throw new ProjectEndedException(projectId),
            var p => p,
        };

    /// <summary>The key version a curated version was made with (its record names it, e.g. <c>processor-id/v2</c>), so a rotation since does not break provisioning.</summary>
    private async Task<BlockTokenCipher> CipherAsync(string purpose, string? keyVersion, CancellationToken cancellationToken) =>
        keyVersion is { } named && named.LastIndexOf("/v", StringComparison.Ordinal) is >= 0 and var at && int.TryParse(named.AsSpan(at + 2), out int version)
            ? await keys.GetCipherAsync(purpose, version, cancellationToken)
            : await keys.GetCipherAsync(purpose, cancellationToken);

    private async Task<Stream> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var parts = path.Split('/', 2);
        return await blobs.GetBlobContainerClient(parts[0]).GetBlobClient(parts[1]).OpenReadAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Keeps the rows whose project id is not among the permitted people.</summary>
    private sealed class NotPermittedFilter(string column, byte[] permittedProjectIds) : TokenRowFilter(column)
    {
        private readonly AllowedParticipants _permitted = AllowedParticipants.FromBlocks(permittedProjectIds);

        public override void Select(ReadOnlySpan<byte> blocks, Span<bool> keep)
        {
            for (int i = 0; i < keep.Length; i++)
            {
                keep[i] = !_permitted.Contains(TokenBytes.FromBytes(blocks.Slice(i * 16, 16)));
            }
        }
    }
}

/// <summary>Passes everything after the first line through: a second pass appends rows under the first pass's header.</summary>
internal sealed class SkipFirstLineStream(Stream inner) : Stream
{
    private bool _skipping = true;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_skipping)
        {
            int newline = buffer.Span.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return;
            }

            _skipping = false;
            buffer = buffer[(newline + 1)..];
        }

        if (!buffer.IsEmpty)
        {
            await inner.WriteAsync(buffer, cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// A blob lease held while one run writes a project's file: renewed while held, released at the end; a run killed while
/// holding it leaves a lease that lapses after <see cref="Duration"/>, so the next run takes over.
/// </summary>
internal sealed class FileWriteLease : IAsyncDisposable
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(30);
    private readonly BlobLeaseClient _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;

    private FileWriteLease(BlobLeaseClient lease)
    {
        _lease = lease;
        _renewing = RenewAsync();
    }

    public static async Task<FileWriteLease> AcquireAsync(BlobContainerClient container, string name, CancellationToken cancellationToken)
    {
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var blob = container.GetBlobClient(name);
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // it exists (leased or not)
        }

        var lease = blob.GetBlobLeaseClient();
        while (true)
        {
            try
            {
                await lease.AcquireAsync(Duration, cancellationToken: cancellationToken);
                return new FileWriteLease(lease);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 + Random.Shared.Next(200)), cancellationToken); // another run writes the file
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewing;
        try
        {
            await _lease.ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // lapsed: it is free anyway
        }

        _stop.Dispose();
    }

    private async Task RenewAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(Duration / 3, _stop.Token);
                await _lease.RenewAsync(cancellationToken: _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is RequestFailedException or HttpRequestException or IOException)
        {
            // lost: the write goes on (the record and commit id checks still hold); the lease lapses on its own
        }
    }
}
