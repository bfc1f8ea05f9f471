using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Linkage.LocalHost.Triggers;

/// <summary>
/// Runs a listener per blob, queue and timer function of the local host (what the Functions host's trigger listeners do
/// in Azure).
/// </summary>
public sealed class LocalTriggerRuntime(
    IEnumerable<ITriggerTarget> targets,
    BlobServiceClient blobs,
    QueueServiceClient queues,
    IOptions<LocalHostOptions> options,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Listeners)
        {
            return;
        }

        var hostContainer = blobs.GetBlobContainerClient(o.HostContainer);
        var receipts = new BlobReceiptStore(hostContainer, o.HostId);
        var loops = new List<Task>();
        foreach (var function in targets)
        {
            Task loop = function switch
            {
                IBlobFunction b => new BlobTriggerListener(b, blobs, queues, receipts, o, time, loggers.CreateLogger<BlobTriggerListener>()).RunAsync(stoppingToken),
                IQueueFunction q => new QueueTriggerListener(q, queues, o, time, loggers.CreateLogger<QueueTriggerListener>()).RunAsync(stoppingToken),
                ITimerFunction t => new TimerTriggerListener(t, hostContainer, o, time, loggers.CreateLogger<TimerTriggerListener>()).RunAsync(stoppingToken),
                _ => Task.CompletedTask,
            };
            loops.Add(Guard(function.Definition.Name, loop));
        }

        await Task.WhenAll(loops);
    }

    private async Task Guard(string name, Task loop)
    {
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            loggers.CreateLogger<LocalTriggerRuntime>().LogCritical(e, "Listener for {Function} stopped", name);
        }
    }
}
