using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Linkage.Azure.Storage;

public static class BlobVersionMove
{
    /// <summary>
    /// Moves exactly one version of a blob to another container under the same name: a server-side copy conditioned on
    /// the version's ETag, then a delete conditioned on it too. If the provider uploaded a newer version meanwhile, that
    /// version stays in place (it gets its own run); a move that already happened is a no-op.
    /// </summary>
    public static async Task MoveToAsync(this BlobClient blob, ETag etag, BlobContainerClient target, CancellationToken cancellationToken)
    {
        await target.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        try
        {
            var copy = await target.GetBlobClient(blob.Name).StartCopyFromUriAsync(
                blob.Uri, new BlobCopyFromUriOptions { SourceConditions = new BlobRequestConditions { IfMatch = etag } }, cancellationToken);
            await copy.WaitForCompletionAsync(cancellationToken);
            await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = etag }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Already moved, or a newer version arrived meanwhile.
        }
    }
}
