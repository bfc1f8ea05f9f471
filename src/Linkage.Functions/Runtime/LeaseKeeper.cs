using Azure;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace Linkage.Functions.Runtime;

/// <summary>
/// Renews a blob lease while work runs. If a renewal fails the lease may pass to another instance, so the work's
/// token is cancelled: the other instance takes over and this one stops rather than racing it.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Task _loop;

    public LeaseKeeper(BlobLeaseClient lease, TimeSpan duration, ILogger logger, CancellationToken cancellationToken)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = RenewAsync(lease, duration, logger, _cts);
    }

    /// <summary>Cancelled when the lease is lost or the caller's token is cancelled.</summary>
    public CancellationToken Token => _cts.Token;

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private static async Task RenewAsync(BlobLeaseClient lease, TimeSpan duration, ILogger logger, CancellationTokenSource cts)
    {
        var every = TimeSpan.FromTicks(duration.Ticks / 3);
        while (!cts.IsCancellationRequested)
        {
            await Task.Delay(every, cts.Token);
            try
            {
                await lease.RenewAsync(cancellationToken: cts.Token);
            }
            catch (RequestFailedException e)
            {
                logger.LogWarning("Lost a lease ({Status} {Code}); stopping the work it guarded", e.Status, e.ErrorCode);
                await cts.CancelAsync();
                return;
            }
        }
    }
}
