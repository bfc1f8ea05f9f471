using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Linkage.Azure.Storage;

public static class BlobVersionMove
{
    /// <summary>Metadata on every copy: the ETag of the source version it was copied from, so a re-run finds it.</summary>
    public const string SourceETagMetadata = "linkagesourceetag";

    /// <summary>
    /// Moves exactly one version of a blob to another container: a server-side copy conditioned on the version's ETag,
    /// then a delete conditioned on it too. Never overwrites: the copy goes to the same name if that is free, otherwise
    /// (an earlier delivery of the same name was archived or quarantined there) to
    /// <c>&lt;name&gt;.&lt;yyyyMMddHHmmss&gt;-&lt;hash&gt;&lt;.ext&gt;</c> (the version's last-modified time and a hash of its ETag).
    /// Idempotent: a re-run for the same ETag finds its earlier copy (by <see cref="SourceETagMetadata"/>) and only
    /// finishes the delete. If the provider uploaded a newer version meanwhile, that version stays in place (it gets
    /// its own run).
    /// </summary>
    /// <returns>
    /// The copy's name in <paramref name="target"/>; null when the version is no longer at the source and no copy of it
    /// exists (it was replaced by a newer upload before it could be copied).
    /// </returns>
    public static async Task<string?> MoveToAsync(this BlobClient blob, ETag etag, BlobContainerClient target, CancellationToken cancellationToken)
    {
        await target.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        string sourceTag = etag.ToString();
        var copied = await FindCopyAsync(target, blob.Name, sourceTag, cancellationToken);
        if (copied is null)
        {
            BlobProperties source;
            try
            {
                source = (await blob.GetPropertiesAsync(new BlobRequestConditions { IfMatch = etag }, cancellationToken)).Value;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                return null; // gone, or replaced by a newer version before it was copied: nothing of this version to move
            }

            var metadata = new Dictionary<string, string>(source.Metadata, StringComparer.OrdinalIgnoreCase) { [SourceETagMetadata] = sourceTag };
            try
            {
                copied = await TryCopyAsync(blob, etag, target.GetBlobClient(blob.Name), metadata, cancellationToken);
                if (copied is null)
                {
                    // The name is taken by another blob (an earlier delivery): keep both, the new one under its unique name.
                    var unique = target.GetBlobClient(UniqueName(blob.Name, source.LastModified, sourceTag));
                    copied = await TryCopyAsync(blob, etag, unique, metadata, cancellationToken)
                        ?? throw new InvalidOperationException($"Could not move {blob.Name}: {unique.Name} in {target.Name} is taken by another blob.");
                }
            }
            catch (RequestFailedException e) when (e.Status == 404 || e.ErrorCode == BlobErrorCode.SourceConditionNotMet)
            {
                // The version left the source during the copy: a concurrent run moved it (find its copy) or a newer one replaced it.
                return await FindCopyAsync(target, blob.Name, sourceTag, cancellationToken);
            }
        }

        try
        {
            await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = etag }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Already deleted by an earlier run, or a newer version arrived meanwhile (it stays).
        }

        return copied;
    }

    /// <summary>
    /// The name <see cref="MoveToAsync"/> would give this version in <paramref name="target"/>: its existing copy's, the
    /// plain name if free, else its unique name. Lets a caller name files that accompany the copy (a report) before the
    /// move, which comes last; null when the version is gone from the source and has no copy.
    /// </summary>
    public static async Task<string?> PlannedNameAsync(this BlobClient blob, ETag etag, BlobContainerClient target, CancellationToken cancellationToken)
    {
        await target.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        if (await FindCopyAsync(target, blob.Name, etag.ToString(), cancellationToken) is { } copied)
        {
            return copied;
        }

        if (!(await target.GetBlobClient(blob.Name).ExistsAsync(cancellationToken)).Value)
        {
            return blob.Name;
        }

        try
        {
            var source = await blob.GetPropertiesAsync(new BlobRequestConditions { IfMatch = etag }, cancellationToken);
            return UniqueName(blob.Name, source.Value.LastModified, etag.ToString());
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary><c>dir/X.csv</c> → <c>dir/X.20250807093000-1a2b3c4d.csv</c>: still a .csv, ordered by time, unique per version.</summary>
    public static string UniqueName(string name, DateTimeOffset lastModified, string sourceETag)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sourceETag)).AsSpan(0, 4));
        string suffix = "." + lastModified.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + hash;
        int dot = name.LastIndexOf('.');
        return dot > name.LastIndexOf('/') + 1 ? name[..dot] + suffix + name[dot..] : name + suffix;
    }

    /// <summary>The name of this version's copy in the target, under its own name or a unique one; null if none yet.</summary>
    private static async Task<string?> FindCopyAsync(BlobContainerClient target, string name, string sourceTag, CancellationToken cancellationToken)
    {
        try
        {
            var same = await target.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken);
            if (IsCopyOf(same.Value.Metadata, sourceTag))
            {
                return name;
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null; // the plain name is free, so no unique name was ever needed
        }

        int dot = name.LastIndexOf('.');
        string stem = dot > name.LastIndexOf('/') + 1 ? name[..dot] : name;
        await foreach (var item in target.GetBlobsAsync(new GetBlobsOptions { Prefix = stem + ".", Traits = BlobTraits.Metadata }, cancellationToken))
        {
            if (IsCopyOf(item.Metadata, sourceTag))
            {
                return item.Name;
            }
        }

        return null;
    }

    private static bool IsCopyOf(IDictionary<string, string>? metadata, string sourceTag) =>
        metadata is not null && metadata.TryGetValue(SourceETagMetadata, out var tag) && tag == sourceTag;

    /// <summary>
    /// Copies the version to <paramref name="destination"/> only if nothing is there (If-None-Match *). Returns its name,
    /// or null if another blob holds the name. A concurrent run of the same move may win the race: its copy counts.
    /// </summary>
    private static async Task<string?> TryCopyAsync(BlobClient source, ETag etag, BlobClient destination, IDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        try
        {
            var copy = await destination.StartCopyFromUriAsync(source.Uri, new BlobCopyFromUriOptions
            {
                SourceConditions = new BlobRequestConditions { IfMatch = etag },
                DestinationConditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                Metadata = metadata,
            }, cancellationToken);
            await copy.WaitForCompletionAsync(cancellationToken);
            return destination.Name;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 && e.ErrorCode != BlobErrorCode.SourceConditionNotMet)
        {
            var existing = await destination.GetPropertiesAsync(cancellationToken: cancellationToken);
            return IsCopyOf(existing.Value.Metadata, metadata[SourceETagMetadata]) ? destination.Name : null;
        }
    }
}
