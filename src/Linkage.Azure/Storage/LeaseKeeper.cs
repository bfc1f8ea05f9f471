using Azure;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace Linkage.Azure.Storage;

/// <summary>
/// Renews a blob lease while work runs. If the lease may have been lost, the work's token is cancelled: another
/// instance may take the lease over, and this one must stop rather than race it.
/// </summary>
/// <remarks>
/// Renewal runs every third of the lease. Each call has its own timeout of a sixth of the lease, so a hung call is
/// abandoned in time for one more try before the lease runs out. Any failure (a refused renewal, a timeout, a network
/// error of whatever type) that leaves less than a third of the lease cancels the work: the loop never dies silently
/// while the work goes on unguarded.
/// </remarks>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Task _loop;

    public LeaseKeeper(BlobLeaseClient lease, TimeSpan duration, ILogger logger, CancellationToken cancellationToken)
        : this(ct => lease.RenewAsync(cancellationToken: ct), duration, logger, TimeProvider.System, cancellationToken)
    {
    }

    /// <summary>For tests: <paramref name="renew"/> stands for the renewal call.</summary>
    public LeaseKeeper(Func<CancellationToken, Task> renew, TimeSpan duration, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = Task.Run(() => RenewAsync(renew, duration, logger, time, _cts), CancellationToken.None);
    }

    /// <summary>Cancelled when the lease is (or may be) lost, or the caller's token is cancelled.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Why the token was cancelled, when it was the lease: for logs and tests.</summary>
    public Exception? LossReason { get; private set; }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _cts.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task RenewAsync(Func<CancellationToken, Task> renew, TimeSpan duration, ILogger logger, TimeProvider time, CancellationTokenSource cts)
    {
        var every = duration / 3;
        var callTimeout = duration / 6;
        var renewedAt = time.GetTimestamp();
        while (!cts.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, time, cts.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                using var call = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                call.CancelAfter(callTimeout);
                await renew(call.Token);
                renewedAt = time.GetTimestamp();
            }
            catch (Exception e) when (!cts.IsCancellationRequested)
            {
                // A refusal (409/412: the lease is gone) is final; anything else may pass, but only while enough of the
                // lease remains for another try.
                bool refused = e is RequestFailedException { Status: 409 or 412 or 404 };
                var left = duration - time.GetElapsedTime(renewedAt);
                if (refused || left < every + callTimeout)
                {
                    LossReason = e;
                    logger.LogWarning("Lost a lease ({Reason}: {Message}); stopping the work it guarded", e.GetType().Name, e.Message.Split('\n', 2)[0]);
                    try
                    {
                        await cts.CancelAsync();
                    }
                    catch (Exception cancelFailure)
                    {
                        // A callback registered on the token threw; the token is cancelled all the same.
                        logger.LogDebug(cancelFailure, "A cancellation callback failed");
                    }

                    return;
                }

                logger.LogInformation("Renewing a lease failed ({Reason}); {Left:F0} s of it remain, trying again", e.GetType().Name, left.TotalSeconds);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
