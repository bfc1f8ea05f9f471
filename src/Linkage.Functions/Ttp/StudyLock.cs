using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;

namespace Linkage.Functions.Ttp;

/// <summary>
/// One File 1 of a study at a time, across every host: a blob lease on <c>ttp-locks/&lt;study&gt;.lock</c>, renewed while
/// the file is processed. Each file is checked against the versions accepted before it and its registry changes,
/// snapshot and delta build on them, so two files of one study must never interleave.
/// </summary>
public sealed class StudyLock : IAsyncDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private readonly BlobLeaseClient _lease;
    private readonly LeaseKeeper _keeper;

    private StudyLock(BlobLeaseClient lease, LeaseKeeper keeper)
    {
        _lease = lease;
        _keeper = keeper;
    }

    /// <summary>Cancelled if the lease is lost (the work must stop: another host may now hold it) or the caller cancels.</summary>
    public CancellationToken Token => _keeper.Token;

    /// <summary>Waits (up to <paramref name="maxWait"/>) for the study's lock; throws <see cref="TimeoutException"/> after it, so the trigger retries later.</summary>
    /// <param name="leaseDuration">15–60 s: how long a crashed holder blocks the study before another file may proceed.</param>
    public static async Task<StudyLock> AcquireAsync(BlobServiceClient blobs, string study, TimeSpan maxWait, TimeSpan leaseDuration, ILogger logger, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(TtpStorage.Locks);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var blob = container.GetBlobClient(study + ".lock");
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Already there (or leased by the holder while we raced to create it).
        }

        var lease = blob.GetBlobLeaseClient();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                long requested = TimeProvider.System.GetTimestamp();
                await lease.AcquireAsync(leaseDuration, cancellationToken: cancellationToken);
                return new StudyLock(lease, new LeaseKeeper(lease, leaseDuration, logger, cancellationToken, requested));
            }
            catch (RequestFailedException e) when (e.Status == 409 && waited.Elapsed < maxWait)
            {
                if (waited.Elapsed < Poll)
                {
                    logger.LogInformation("Another File 1 of {Study} is being processed; waiting for it", study);
                }

                await Task.Delay(Poll, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                throw new StudyLockBusyException($"Another File 1 of {study} held the study's lock for over {maxWait.TotalMinutes:F0} minutes; the delivery will be retried.", e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _keeper.DisposeAsync();
        try
        {
            await _lease.ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // Lost or expired already: the next holder acquires it as usual.
        }
    }
}

/// <summary>Another File 1 of the study held its lock for longer than the wait allows: the delivery is tried again later.</summary>
public sealed class StudyLockBusyException(string message, Exception inner) : TimeoutException(message, inner);
