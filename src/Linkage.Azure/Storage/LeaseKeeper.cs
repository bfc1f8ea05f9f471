using Azure;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace Linkage.Azure.Storage;

/// <summary>
/// Renews a blob lease while work runs. If the lease may have been lost, the work's token is cancelled: another
/// instance may take the lease over, and this one must stop rather than race it.
/// </summary>
/// <remarks>
/// Renewal runs every third of the lease; each call is abandoned after a sixth of it, even if it ignores its token.
/// After a failure of any type the keeper tries again a tenth of the lease later, but only while that try could still
/// end a sixth of the lease before expiry; otherwise, or at once when the service refuses (the lease is gone), the work
/// is cancelled. Expiry is counted from when the last successful renewal was *sent* (or the lease taken), never from
/// when its answer came, so the keeper never believes it has more time than the service gives.
/// </remarks>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Task _loop;
    private int _disposed;

    /// <param name="acquiredAt">When the lease was requested (<see cref="TimeProvider.GetTimestamp"/> of the system clock); default now.</param>
    public LeaseKeeper(BlobLeaseClient lease, TimeSpan duration, ILogger logger, CancellationToken cancellationToken, long? acquiredAt = null)
        : this(ct => lease.RenewAsync(cancellationToken: ct), duration, logger, TimeProvider.System, cancellationToken, acquiredAt)
    {
    }

    /// <summary>For tests: <paramref name="renew"/> stands for the renewal call.</summary>
    public LeaseKeeper(Func<CancellationToken, Task> renew, TimeSpan duration, ILogger logger, TimeProvider time, CancellationToken cancellationToken, long? acquiredAt = null)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long start = acquiredAt ?? time.GetTimestamp();
        _loop = Task.Run(() => RenewAsync(renew, duration, logger, time, start, _cts), CancellationToken.None);
    }

    /// <summary>Cancelled when the lease is (or may be) lost, or the caller's token is cancelled.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Why the token was cancelled, when it was the lease: for logs and tests.</summary>
    public Exception? LossReason { get; private set; }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _cts.CancelAsync();
        await _loop; // never throws: the loop ends quietly once cancelled
        _cts.Dispose();
    }

    private async Task RenewAsync(Func<CancellationToken, Task> renew, TimeSpan duration, ILogger logger, TimeProvider time, long renewedAt, CancellationTokenSource cts)
    {
        var every = duration / 3;
        var callTimeout = duration / 6;
        var retryAfter = duration / 10;
        var margin = duration / 6;
        var wait = every - time.GetElapsedTime(renewedAt);
        try
        {
            while (!cts.IsCancellationRequested)
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cts.Token);
                }

                long sent = time.GetTimestamp();
                try
                {
                    using var timeout = new CancellationTokenSource(callTimeout, time);
                    using var call = CancellationTokenSource.CreateLinkedTokenSource(cts.Token, timeout.Token);
                    await renew(call.Token).WaitAsync(call.Token); // abandoned at the timeout even if the call ignores its token
                    renewedAt = sent;
                    wait = every - time.GetElapsedTime(sent);
                }
                catch (Exception e) when (!cts.IsCancellationRequested)
                {
                    bool refused = e is RequestFailedException { Status: 404 or 409 or 412 };
                    var left = duration - time.GetElapsedTime(renewedAt);
                    if (refused || left < retryAfter + callTimeout + margin)
                    {
                        LossReason = e;
                        logger.LogWarning("Lost a lease ({Reason}: {Message}); stopping the work it guarded", e.GetType().Name, e.Message.Split('\n', 2)[0]);
                        await cts.CancelAsync();
                        return;
                    }

                    logger.LogInformation("Renewing a lease failed ({Reason}); {Left:F1} s of it remain, trying again", e.GetType().Name, left.TotalSeconds);
                    wait = retryAfter;
                }
            }
        }
        catch (Exception) when (cts.IsCancellationRequested)
        {
            // Disposed or cancelled by the caller, whatever the pending call then threw.
        }
    }
}
