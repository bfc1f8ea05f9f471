using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Azure.Storage;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Processor;

/// <summary>How the processor trusts the TTP's manifests (section <c>TtpManifest</c>).</summary>
public sealed class TtpManifestOptions
{
    public const string SectionName = "TtpManifest";

    /// <summary>
    /// The TTP's manifest public key (PEM). Required outside Development; in Development, when unset, the key the TTP
    /// publishes beside its manifests is used (trust on first use, acceptable for a local stack only).
    /// </summary>
    public string PublicKey { get; set; } = "";
}

/// <summary>
/// The permission snapshots in force: for each study, the one its TTP-signed manifest names
/// (<c>processor-from-ttp/manifests/&lt;STUDY&gt;.manifest.json</c>), checked against the manifest's SHA-256 and merged into
/// one lookup. Snapshots no manifest names (an attempt that never committed, a stale copy) are never read. A manifest
/// that fails its signature or checks, or is older than one already used (<see cref="ManifestHighWaterMarks"/>), stops
/// File 2 intake (fail closed) rather than curating under unknown or rolled-back permissions.
/// </summary>
public sealed class PermissionSnapshotSource(BlobServiceClient blobs, IOptions<TtpManifestOptions> options, IHostEnvironment environment, ManifestHighWaterMarks marks)
{
    public async Task<PermissionSnapshotSet> LoadLatestAsync(CancellationToken cancellationToken) =>
        PermissionSnapshotSet.Merge(await LoadLatestSnapshotsAsync(cancellationToken));

    /// <summary>Each study's latest committed snapshot (through its signed manifest), one per study.</summary>
    public async Task<IReadOnlyList<PermissionSnapshot>> LoadLatestSnapshotsAsync(CancellationToken cancellationToken)
    {
        // A manifest that changed while it was read (another load raised its mark past it) is read again.
        for (var attempt = 1; ; attempt++)
        {
            if (await TryLoadLatestSnapshotsAsync(cancellationToken) is { } snapshots)
            {
                return snapshots;
            }

            if (attempt == 3)
            {
                throw new ManifestRejectedException("The TTP's manifests kept changing while the processor read them (three attempts); the run is retried later.");
            }
        }
    }

    private async Task<IReadOnlyList<PermissionSnapshot>?> TryLoadLatestSnapshotsAsync(CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(TtpProcessorContract.Container);
        var snapshots = new List<PermissionSnapshot>();
        if (!await container.ExistsAsync(cancellationToken))
        {
            return snapshots;
        }

        ManifestVerifier? verifier = null;
        try
        {
            var names = new List<string>();
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, TtpProcessorContract.ManifestPrefix, cancellationToken))
            {
                if (item.Name.EndsWith(".manifest.json", StringComparison.Ordinal))
                {
                    names.Add(item.Name);
                }
            }

            var used = names.Count > 0 ? await marks.ReadAllAsync(cancellationToken) : new Dictionary<string, ManifestMarkDocument>();
            foreach (string name in names.Order(StringComparer.Ordinal))
            {
                verifier ??= await CreateVerifierAsync(container, cancellationToken);
                string study = name[TtpProcessorContract.ManifestPrefix.Length..^".manifest.json".Length];
                var manifest = verifier.Verify(await ReadSignedAsync(container.GetBlobClient(name), study, cancellationToken), study);
                var mark = used.GetValueOrDefault(study);
                ManifestHighWaterMarks.Check(manifest, mark);
                snapshots.Add(await ReadSnapshotAsync(container, manifest, cancellationToken));
                if (!await marks.RaiseAsync(manifest, mark, cancellationToken))
                {
                    return null;
                }
            }
        }
        finally
        {
            verifier?.Dispose();
        }

        return snapshots;
    }

    /// <summary>The manifest of one study, verified (its age is not judged: nothing is used through it); null when the study has none yet.</summary>
    public async Task<StudyManifest?> GetManifestAsync(string study, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(TtpProcessorContract.Container);
        SignedManifest signed;
        try
        {
            signed = await ReadSignedAsync(container.GetBlobClient(TtpProcessorContract.Manifest(study)), study, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }

        using var verifier = await CreateVerifierAsync(container, cancellationToken);
        return verifier.Verify(signed, study);
    }

    private static async Task<SignedManifest> ReadSignedAsync(BlobClient blob, string study, CancellationToken cancellationToken)
    {
        var content = (await blob.DownloadContentAsync(cancellationToken)).Value.Content;
        try
        {
            return content.ToObjectFromJson<SignedManifest>() ?? throw new ManifestRejectedException($"The manifest of {study} is empty.");
        }
        catch (JsonException)
        {
            throw new ManifestRejectedException($"The manifest of {study} is not valid JSON.");
        }
    }

    private static async Task<PermissionSnapshot> ReadSnapshotAsync(BlobContainerClient container, StudyManifest manifest, CancellationToken cancellationToken)
    {
        PermissionSnapshot snapshot;
        string sha256;
        long length;
        await using (var hashing = new Sha256ReadStream(await container.GetBlobClient(manifest.PermissionSnapshot.Name).OpenReadAsync(cancellationToken: cancellationToken)))
        {
            snapshot = await PermissionSnapshot.ReadAsync(hashing, cancellationToken);
            sha256 = await hashing.FinishAsync(cancellationToken);
            length = hashing.BytesRead;
        }

        if (sha256 != manifest.PermissionSnapshot.Sha256 || length != manifest.PermissionSnapshot.Length)
        {
            throw new ManifestRejectedException($"{manifest.PermissionSnapshot.Name} is not the file the manifest of {manifest.Study} names (its SHA-256 or length differs); it is not used.");
        }

        if (snapshot.Header.StudyCode != manifest.Study || snapshot.Header.File1Version != manifest.Version || snapshot.Header.TokenKeyVersion != manifest.TokenKeyVersion)
        {
            throw new ManifestRejectedException($"{manifest.PermissionSnapshot.Name} says it is {snapshot.Header.StudyCode} v{snapshot.Header.File1Version}, but the manifest names {manifest.Study} v{manifest.Version}.");
        }

        return snapshot;
    }

    private async Task<ManifestVerifier> CreateVerifierAsync(BlobContainerClient container, CancellationToken cancellationToken)
    {
        string pem = options.Value.PublicKey;
        if (string.IsNullOrWhiteSpace(pem) && environment.IsDevelopment())
        {
            try
            {
                pem = (await container.GetBlobClient(TtpProcessorContract.SigningKeyBlob).DownloadContentAsync(cancellationToken)).Value.Content.ToString();
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                pem = "";
            }
        }

        if (string.IsNullOrWhiteSpace(pem))
        {
            throw new ManifestKeyMissingException(
                $"{TtpManifestOptions.SectionName}:PublicKey is not set, so no TTP manifest can be trusted and File 2 intake cannot apply permissions. " +
                $"Copy the PEM the TTP publishes at {TtpProcessorContract.Container}/{TtpProcessorContract.SigningKeyBlob} into the processor's settings.");
        }

        return new ManifestVerifier(pem);
    }
}

/// <summary>The processor has no TTP manifest key configured: an operator must set it.</summary>
public sealed class ManifestKeyMissingException(string message) : InvalidOperationException(message);
