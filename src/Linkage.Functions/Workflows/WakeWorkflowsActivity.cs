using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Workflows.Refresh;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows;

/// <summary>A delivery that finished (an activity's input): inbox, blob name and outcome — names only.</summary>
public sealed record DeliveryFinished(string Inbox, string BlobName, string Outcome);

/// <summary>
/// Wakes the workflows that wait for a finished delivery: a curated File 2 wakes the running annual refreshes of its
/// dataset. Called by the delivery workflow once a delivery completes. A wake only shortens a wait (the workflows
/// re-read the catalogue on their own timers), so a lost one delays, never loses, a refresh.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class WakeWorkflowsFunction(ILogger<WakeWorkflowsFunction> logger)
{
    public const string Name = "WakeWorkflows";

    [Function(Name)]
    public async Task<int> Run([ActivityTrigger] DeliveryFinished finished, [DurableClient] DurableTaskClient durable, FunctionContext function)
    {
        if (finished.Inbox != ProcessorStorage.File2Inbox || finished.Outcome != "Curated" || !finished.BlobName.Contains('/', StringComparison.Ordinal))
        {
            return 0;
        }

        string dataset = finished.BlobName.Split('/', 2)[0];
        int woken = 0;
        var query = new OrchestrationQuery { InstanceIdPrefix = $"refresh-{dataset}-", Statuses = [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending] };
        await foreach (var instance in durable.GetAllInstancesAsync(query).WithCancellation(function.CancellationToken))
        {
            if (instance.Name == AnnualRefreshOrchestration.Name)
            {
                await durable.RaiseEventAsync(instance.InstanceId, WorkflowEvents.File2Curated, new WorkflowWake(dataset, finished.Outcome), function.CancellationToken);
                woken++;
            }
        }

        if (woken > 0)
        {
            logger.LogInformation("A curated File 2 of {Dataset} woke {Count} annual refresh(es)", dataset, woken);
        }

        return woken;
    }
}
