using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Linkage.LocalHost.Triggers;

/// <summary>
/// Receipts for blob-triggered work, as the Functions blob trigger keeps them: one empty blob per (function, blob name,
/// ETag) under <c>blobreceipts/</c> in the host container. Its metadata says whether that version is done and how many
/// tries began (a try is counted before it starts, so one that crashed the process counts too); a lease on it ensures
/// only one instance works on a version at a time.
/// </summary>
public sealed class BlobReceiptStore(BlobContainerClient hostContainer, string hostId)
{
    private const string CompletedKey = "Completed";
    private const string AttemptsKey = "Attempts";
    private const string NextAttemptKey = "NextAttemptUtc";
    private const string PoisonedKey = "Poisoned";

    public async Task EnsureContainerAsync(CancellationToken cancellationToken) =>
        await hostContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    public BlobClient ReceiptFor(string functionName, string container, string blobName, ETag etag) =>
        hostContainer.GetBlobClient($"blobreceipts/{hostId}/{functionName}/{etag.ToString().Trim('"')}/{container}/{blobName}");

    /// <summary>Reads the receipt, creating it when it does not exist yet.</summary>
    public async Task<BlobReceipt> GetOrCreateAsync(BlobClient receipt, CancellationToken cancellationToken)
    {
        try
        {
            var props = await receipt.GetPropertiesAsync(cancellationToken: cancellationToken);
            return BlobReceipt.From(props.Value);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            try
            {
                await receipt.UploadAsync(
                    BinaryData.Empty,
                    new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                    cancellationToken);
            }
            catch (RequestFailedException c) when (c.Status is 409 or 412)
            {
                // Another instance created it first: fine.
            }

            var props = await receipt.GetPropertiesAsync(cancellationToken: cancellationToken);
            return BlobReceipt.From(props.Value);
        }
    }

    /// <summary>Takes the receipt's lease, or returns null when another instance holds it.</summary>
    public async Task<BlobLeaseClient?> TryLeaseAsync(BlobClient receipt, TimeSpan duration, CancellationToken cancellationToken)
    {
        var lease = receipt.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(duration, cancellationToken: cancellationToken);
            return lease;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return null;
        }
    }

    public async Task<BlobReceipt> ReadAsync(BlobClient receipt, CancellationToken cancellationToken) =>
        BlobReceipt.From((await receipt.GetPropertiesAsync(cancellationToken: cancellationToken)).Value);

    /// <summary>Counts try <paramref name="attempt"/> before it runs.</summary>
    public Task MarkStartedAsync(BlobClient receipt, BlobLeaseClient lease, int attempt, CancellationToken cancellationToken) =>
        WriteAsync(receipt, lease, new Dictionary<string, string>
        {
            [AttemptsKey] = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, cancellationToken);

    public Task MarkCompletedAsync(BlobClient receipt, BlobLeaseClient lease, int attempts, CancellationToken cancellationToken) =>
        WriteAsync(receipt, lease, new Dictionary<string, string>
        {
            [CompletedKey] = "true",
            [AttemptsKey] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, cancellationToken);

    public Task MarkFailedAsync(BlobClient receipt, BlobLeaseClient lease, int attempts, DateTimeOffset nextAttempt, CancellationToken cancellationToken) =>
        WriteAsync(receipt, lease, new Dictionary<string, string>
        {
            [AttemptsKey] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [NextAttemptKey] = nextAttempt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        }, cancellationToken);

    public Task MarkPoisonedAsync(BlobClient receipt, BlobLeaseClient lease, int attempts, CancellationToken cancellationToken) =>
        WriteAsync(receipt, lease, new Dictionary<string, string>
        {
            [CompletedKey] = "true",
            [PoisonedKey] = "true",
            [AttemptsKey] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, cancellationToken);

    private static async Task WriteAsync(BlobClient receipt, BlobLeaseClient lease, IDictionary<string, string> metadata, CancellationToken cancellationToken) =>
        await receipt.SetMetadataAsync(metadata, new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken);
}

/// <summary>What a receipt says about one blob version.</summary>
public sealed record BlobReceipt(bool Completed, bool Poisoned, int Attempts, DateTimeOffset? NextAttempt)
{
    internal static BlobReceipt From(BlobProperties props)
    {
        var m = props.Metadata;
        return new BlobReceipt(
            m.TryGetValue("Completed", out var c) && c == "true",
            m.TryGetValue("Poisoned", out var p) && p == "true",
            m.TryGetValue("Attempts", out var f) && int.TryParse(f, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : 0,
            m.TryGetValue("NextAttemptUtc", out var t) && DateTimeOffset.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : null);
    }
}
