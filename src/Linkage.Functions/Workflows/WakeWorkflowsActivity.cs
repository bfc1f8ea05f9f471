using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows.Quarterly;
using Linkage.Functions.Workflows.Refresh;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows;

/// <summary>A delivery that finished (an activity's input): inbox, the blob's folder (dataset or study) and outcome — never the file name.</summary>
public sealed record DeliveryFinished(string Inbox, string Folder, string Outcome);

/// <summary>
/// Wakes the workflows that wait for a finished delivery: a curated File 2 wakes the running annual refreshes of its
/// dataset, an accepted File 1 the running quarterly cycle. Called by the delivery workflow once a delivery completes. A wake only shortens a wait (the workflows
/// re-read the catalogue on their own timers), so a lost one delays, never loses, a refresh.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class WakeWorkflowsFunction(ILogger<WakeWorkflowsFunction> logger)
{
    public const string Name = "WakeWorkflows";

    [Function(Name)]
    public async Task<int> Run([ActivityTrigger] DeliveryFinished finished, [DurableClient] DurableTaskClient durable, FunctionContext function)
    {
        string folder = finished.Folder; // the dataset (File 2) or study (File 1)
        if (folder.Length == 0)
        {
            return 0;
        }
        var (prefix, orchestration, eventName) = (finished.Inbox, finished.Outcome) switch
        {
            (ProcessorStorage.File2Inbox, "Curated") => ($"refresh-{folder}-", AnnualRefreshOrchestration.Name, WorkflowEvents.File2Curated),
            (TtpStorage.File1Inbox, "Accepted") => ("quarter-", QuarterlyOptOutOrchestration.Name, WorkflowEvents.File1Accepted),
            _ => ((string?)null, (string?)null, (string?)null),
        };
        if (prefix is null)
        {
            return 0;
        }

        int woken = 0;
        var query = new OrchestrationQuery { InstanceIdPrefix = prefix, Statuses = [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending] };
        await foreach (var instance in durable.GetAllInstancesAsync(query).WithCancellation(function.CancellationToken))
        {
            // refresh-<dataset>-<YYYY> exactly: a dataset whose id extends this one's shares the prefix.
            if (instance.Name == orchestration && (orchestration != AnnualRefreshOrchestration.Name || instance.InstanceId.Length == prefix.Length + 4))
            {
                await durable.RaiseEventAsync(instance.InstanceId, eventName!, new WorkflowWake(folder, finished.Outcome), function.CancellationToken);
                woken++;
            }
        }

        if (woken > 0)
        {
            logger.LogInformation("{Outcome} delivery of {Folder} woke {Count} workflow(s) ({Orchestration})", finished.Outcome, folder, woken, orchestration);
        }

        return woken;
    }
}
