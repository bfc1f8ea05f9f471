using System.Net;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Cosmos;

public static class OptimisticUpdate
{
    /// <summary>
    /// Read–change–write of one document with ETag concurrency (the stand-in and the design both avoid batches):
    /// <paramref name="change"/> gets the current document (null when there is none) and returns the new one, or null to
    /// write nothing. The write is a create for a new document and an If-Match replace otherwise; when another writer got
    /// there first (412/409) the document is read again and <paramref name="change"/> applied afresh, so it must only
    /// depend on the document it is given. Returns whether a write happened.
    /// </summary>
    public static async Task<bool> UpdateAsync<T>(this Container container, string id, PartitionKey partitionKey, Func<T?, T?> change, CancellationToken cancellationToken, int maxAttempts = 10)
        where T : class
    {
        for (int attempt = 1; ; attempt++)
        {
            T? current = null;
            string? etag = null;
            try
            {
                var read = await container.ReadItemAsync<T>(id, partitionKey, cancellationToken: cancellationToken);
                (current, etag) = (read.Resource, read.ETag);
            }
            catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
            }

            if (change(current) is not { } next)
            {
                return false;
            }

            try
            {
                if (etag is null)
                {
                    await container.CreateItemAsync(next, partitionKey, cancellationToken: cancellationToken);
                }
                else
                {
                    await container.ReplaceItemAsync(next, id, partitionKey, new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken);
                }

                return true;
            }
            catch (CosmosException e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict && attempt < maxAttempts)
            {
                // Someone else wrote it meanwhile: read again and re-apply.
            }
        }
    }
}
