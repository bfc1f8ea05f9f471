using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Hosting;
using Linkage.Ttp;

namespace Linkage.Functions.Ttp;

/// <summary>What of a study is committed for NHS England (in <c>ttp-outbox-nhse/manifests/</c>; TTP zone only, so not signed).</summary>
public sealed record NhseStudyManifest(string Study, int Version, DateOnly FileDate, DateTimeOffset CommittedAt, ManifestFile NhsOutput, ManifestFile Delta)
{
    /// <summary>The File 1's revision in force (n &gt; 0: re-read with a newer national opt-out list).</summary>
    public int Revision { get; init; }
}

/// <summary>
/// Publishes a committed File 1: the signed manifest that puts its snapshot and ID mapping file in force for the
/// processor, and the manifest naming its NHS Output and delta for NHS England. A manifest never goes back to an older
/// version than the one it names, so publishing an old commit late (a roll-forward after a crash) changes nothing.
/// </summary>
public sealed class StudyManifestPublisher(BlobServiceClient blobs, KeyRingProvider keys, ProcessorInbox? processorInbox = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The processor's inbox: in Azure a container of the TRE's account (<see cref="StorageOptions.ProcessorInboxServiceUri"/>).</summary>
    private BlobContainerClient Inbox => processorInbox?.Container ?? blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox);

    /// <summary>True when the manifests now name <paramref name="record"/>'s files; false when a newer version was already in force.</summary>
    public async Task<bool> PublishAsync(File1VersionRecord record, CancellationToken cancellationToken)
    {
        string study = record.Study;
        int version = record.Version!.Value;
        var inbox = Inbox;
        var manifestBlob = inbox.GetBlobClient(TtpProcessorContract.Manifest(study));
        var (inForce, inForceRevision, etag) = await ReadVersionAsync(manifestBlob, cancellationToken);
        if (inForce > version || (inForce == version && inForceRevision > record.Revision))
        {
            return false;
        }

        using var signer = await keys.GetManifestSignerAsync(cancellationToken);
        var files = record.Files;
        var manifest = new StudyManifest
        {
            Study = study,
            Version = version,
            FileDate = record.FileDate!.Value,
            SourceETag = record.SourceETag,
            TokenKeyVersion = record.TokenKeyVersion!,
            CommittedAt = record.ProcessedAt,
            PermissionSnapshot = InContainer(files[File1OutputWriter.Keys.PermissionSnapshot]),
            IdMapping = InContainer(files[File1OutputWriter.Keys.IdMapping]),
            Revision = record.Revision,
        };

        // The public key first, so a processor that trusts it on first use (Development) can verify the manifest at once.
        var keyBlob = inbox.GetBlobClient(TtpProcessorContract.SigningKeyBlob);
        if (!await HasTextAsync(keyBlob, signer.PublicKeyPem, cancellationToken))
        {
            await keyBlob.UploadAsync(BinaryData.FromString(signer.PublicKeyPem), overwrite: true, cancellationToken);
        }

        await manifestBlob.UploadAsync(BinaryData.FromObjectAsJson(signer.Sign(manifest), Json), new BlobUploadOptions
        {
            // Another writer in between (there is none under the study lock) must not be overwritten blindly.
            Conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All },
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        }, cancellationToken);

        var nhse = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        var nhseManifest = new NhseStudyManifest(study, version, manifest.FileDate, manifest.CommittedAt, files[File1OutputWriter.Keys.NhsOutput], files[File1OutputWriter.Keys.Delta]) { Revision = record.Revision };
        await nhse.GetBlobClient(TtpStorage.NhseManifest(study)).UploadAsync(BinaryData.FromObjectAsJson(nhseManifest, Json), overwrite: true, cancellationToken);
        return true;
    }

    /// <summary>The processor manifest names files by their name in its own container.</summary>
    private static ManifestFile InContainer(ManifestFile f) => f with { Name = File1OutputWriter.BlobName(f.Name) };

    /// <summary>
    /// The File 1 version and revision the processor's manifest of <paramref name="study"/> names ((0, 0) when none or
    /// unreadable; the TTP reads its own payload, the processor is the one that verifies).
    /// </summary>
    public async Task<(int Version, int Revision)> InForceAsync(string study, CancellationToken cancellationToken)
    {
        var (version, revision, _) = await ReadVersionAsync(Inbox.GetBlobClient(TtpProcessorContract.Manifest(study)), cancellationToken);
        return (version, revision);
    }

    private static async Task<(int Version, int Revision, ETag? ETag)> ReadVersionAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var download = (await blob.DownloadContentAsync(cancellationToken)).Value;
            var signed = download.Content.ToObjectFromJson<SignedManifest>();
            var manifest = JsonSerializer.Deserialize<StudyManifest>(Convert.FromBase64String(signed!.Payload), new JsonSerializerOptions(JsonSerializerDefaults.Web));
            return (manifest?.Version ?? 0, manifest?.Revision ?? 0, download.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (0, 0, null);
        }
        catch (Exception e) when (e is JsonException or FormatException or NullReferenceException)
        {
            // Not ours (tampered or broken): replace it with a signed one.
            return (0, 0, (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ETag);
        }
    }

    private static async Task<bool> HasTextAsync(BlobClient blob, string text, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToString() == text;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }
}
