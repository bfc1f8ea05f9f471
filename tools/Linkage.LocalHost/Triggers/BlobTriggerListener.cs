using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Linkage.Azure.Storage;
using Microsoft.Extensions.Logging;

namespace Linkage.LocalHost.Triggers;

/// <summary>
/// Follows the Azure Functions polling blob trigger: lists the trigger container, and runs the function once per blob
/// version (name + ETag) across all instances, using receipts with leases. A changed blob (new ETag) runs again.
/// A failed try is retried with exponential backoff; after <see cref="LocalHostOptions.MaxAttempts"/> tries a message goes
/// to the <c>webjobs-blobtrigger-poison</c> queue and the blob is left untouched. Tries are counted before they run, so
/// a try that kills the process counts: a file that crashes the host is poisoned, not retried for ever. Losing the
/// receipt's lease cancels the try.
/// </summary>
public sealed class BlobTriggerListener(
    IBlobFunction function,
    BlobServiceClient blobs,
    QueueServiceClient queues,
    BlobReceiptStore receipts,
    LocalHostOptions options,
    TimeProvider time,
    ILogger<BlobTriggerListener> logger)
{
    public const string PoisonQueueName = "webjobs-blobtrigger-poison";

    private readonly BlobTriggerDefinition _trigger = (BlobTriggerDefinition)function.Definition.Trigger;
    private readonly ConcurrentDictionary<(string Name, ETag ETag), bool> _done = new();
    private BlobPathPattern? _pattern;

    private BlobPathPattern Pattern => _pattern ??= new BlobPathPattern(_trigger.PathPattern);

    private bool _initialized;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ScanOnceAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Blob scan for {Function} failed; trying again", function.Definition.Name);
            }

            await Task.Delay(options.BlobPollInterval, time, cancellationToken);
        }
    }

    /// <summary>One pass over the container: every unprocessed, due blob version is tried once.</summary>
    public async Task ScanOnceAsync(CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(_trigger.Container);
        if (!_initialized)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            await receipts.EnsureContainerAsync(cancellationToken);
            _initialized = true;
        }

        using var gate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentBlobs));
        var running = new List<Task>();
        try
        {
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, Pattern.Prefix.Length == 0 ? null : Pattern.Prefix, cancellationToken))
            {
                if (item.Deleted || item.Properties.ETag is not { } etag || _done.ContainsKey((item.Name, etag)))
                {
                    continue;
                }

                if (!Pattern.TryMatch(item.Name, out var values))
                {
                    continue;
                }

                await gate.WaitAsync(cancellationToken);
                running.Add(Task.Run(
                    async () =>
                    {
                        try
                        {
                            await TryProcessAsync(container.GetBlobClient(item.Name), etag, values, cancellationToken);
                        }
                        finally
                        {
                            gate.Release();
                        }
                    },
                    CancellationToken.None));
            }
        }
        finally
        {
            // Never leave a try running past the gate's lifetime, whatever ended the listing.
            await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        foreach (var t in running.Where(t => t.IsFaulted))
        {
            logger.LogError(t.Exception!.InnerException, "{Function}: a try failed outside the function (receipt or lease)", function.Definition.Name);
        }
    }

    private async Task TryProcessAsync(BlobClient blob, ETag etag, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        string fn = function.Definition.Name;
        var receiptBlob = receipts.ReceiptFor(fn, _trigger.Container, blob.Name, etag);
        var receipt = await receipts.GetOrCreateAsync(receiptBlob, cancellationToken);
        if (receipt.Completed)
        {
            _done.TryAdd((blob.Name, etag), true);
            return;
        }

        if (receipt.NextAttempt is { } next && next > time.GetUtcNow())
        {
            return;
        }

        long leaseRequested = TimeProvider.System.GetTimestamp(); // the lease runs from here, not from when the keeper starts
        var lease = await receipts.TryLeaseAsync(receiptBlob, options.LeaseDuration, cancellationToken);
        if (lease is null)
        {
            return; // another instance is on it
        }

        try
        {
            // Re-read under the lease: another instance may have finished between our read and our lease.
            receipt = await receipts.ReadAsync(receiptBlob, cancellationToken);
            if (receipt.Completed)
            {
                _done.TryAdd((blob.Name, etag), true);
                return;
            }

            int attempt = receipt.Attempts + 1;
            if (attempt > options.MaxAttempts)
            {
                // Every try so far began and never reported back: each one ended the process.
                await PoisonAsync(blob, etag, cancellationToken);
                await receipts.MarkPoisonedAsync(receiptBlob, lease, receipt.Attempts, cancellationToken);
                _done.TryAdd((blob.Name, etag), true);
                logger.LogError("{Function}: {Attempts} tries on {Container}/{Blob} ({ETag}) never finished; sent to {Queue}, blob left in place", fn, receipt.Attempts, _trigger.Container, blob.Name, etag, PoisonQueueName);
                return;
            }

            await receipts.MarkStartedAsync(receiptBlob, lease, attempt, cancellationToken);
            Exception? failure = null;
            bool leaseLost = false;
            await using (var keeper = new LeaseKeeper(lease, options.LeaseDuration, logger, cancellationToken, leaseRequested))
            {
                try
                {
                    logger.LogInformation("Running {Function} for blob version {Container}/{Blob} ({ETag}), attempt {Attempt}", fn, _trigger.Container, blob.Name, etag, attempt);
                    await function.RunAsync(new BlobTriggerContext(blob, blob.Name, etag, values, attempt), keeper.Token);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = e;
                }

                // Lost during the try, even if the function then returned normally: the receipt is no longer ours to write.
                leaseLost = keeper.LossReason is not null;
            }

            if (leaseLost)
            {
                // Another instance may hold the receipt now; it decides what happens next. This try stays counted.
                logger.LogWarning("{Function} lost the lease on {Container}/{Blob} ({ETag}) during attempt {Attempt}; stopped", fn, _trigger.Container, blob.Name, etag, attempt);
            }
            else if (failure is null)
            {
                await receipts.MarkCompletedAsync(receiptBlob, lease, attempt, cancellationToken);
                _done.TryAdd((blob.Name, etag), true);
                logger.LogInformation("{Function} completed blob version {Container}/{Blob} ({ETag})", fn, _trigger.Container, blob.Name, etag);
            }
            else if (attempt >= options.MaxAttempts)
            {
                await PoisonAsync(blob, etag, cancellationToken);
                await receipts.MarkPoisonedAsync(receiptBlob, lease, attempt, cancellationToken);
                _done.TryAdd((blob.Name, etag), true);
                logger.LogError(failure, "{Function} failed {Attempts} times on {Container}/{Blob} ({ETag}); sent to {Queue}, blob left in place", fn, attempt, _trigger.Container, blob.Name, etag, PoisonQueueName);
            }
            else
            {
                var nextAttempt = time.GetUtcNow() + options.RetryDelayFor(attempt);
                await receipts.MarkFailedAsync(receiptBlob, lease, attempt, nextAttempt, cancellationToken);
                logger.LogWarning(failure, "{Function} failed on {Container}/{Blob} ({ETag}), attempt {Attempt}; retrying after {Next:O}", fn, _trigger.Container, blob.Name, etag, attempt, nextAttempt);
            }
        }
        finally
        {
            try
            {
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException)
            {
                // Lease already expired or was taken over; nothing to release.
            }
        }
    }

    private async Task PoisonAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken)
    {
        var queue = queues.GetQueueClient(PoisonQueueName);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        // Same fields as the Functions host's poison message for blob triggers.
        string message = JsonSerializer.Serialize(new
        {
            Type = "BlobTrigger",
            FunctionId = function.Definition.Name,
            BlobType = "BlockBlob",
            ContainerName = _trigger.Container,
            BlobName = blob.Name,
            ETag = etag.ToString(),
        });
        await queue.SendMessageAsync(message, cancellationToken);
    }
}
