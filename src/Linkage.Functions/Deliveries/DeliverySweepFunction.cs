using Linkage.Functions.Hosting;
using Linkage.Functions.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// The safety net under the delivery workflow: on the schedule in setting <c>DeliverySweepSchedule</c> (every 10 minutes),
/// a delivery still Pending or Running whose workflow has ended or vanished (failed, terminated, purged, never started)
/// is held, so that no delivery waits unseen whatever became of its workflow.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class DeliverySweepFunction(DeliveryStore store, DeliveryHolder holder, InboxHandlers handlers, TimeProvider time, ILogger<DeliverySweepFunction> logger)
{
    /// <summary>Records younger than this are left alone: their trigger may be starting the workflow right now.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    [Function("SweepDeliveries")]
    public async Task Run([TimerTrigger("%DeliverySweepSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var workflows = new DurableWorkflowClient(durable);
        int held = 0;
        foreach (var record in await store.ListUnfinishedAsync(time.GetUtcNow() - Grace, cancellationToken))
        {
            if (handlers.ZoneOf(record.Inbox) is null)
            {
                continue;
            }

            var workflow = await workflows.GetAsync(record.InstanceId, cancellationToken);
            if (workflow is { HasEnded: false })
            {
                continue; // still working, or waiting for its next attempt
            }

            string why = workflow is null ? "its workflow does not exist" : $"its workflow ended {workflow.RuntimeStatus}";
            await holder.HoldAsync(record.Id, record.Generation, FailureClass.WorkflowEnded, $"The delivery was {record.State} but {why}.", cancellationToken);
            held++;
        }

        if (held > 0)
        {
            logger.LogError("The delivery sweep held {Count} deliveries whose workflows had ended without finishing them", held);
        }
    }
}
