using Microsoft.DurableTask;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// One delivered blob version, from its first attempt to processed or held: try the intake; on failure wait (a durable
/// timer, doubling up to hours) and try again while the failure's class allows; then hold it for an operator.
/// </summary>
/// <remarks>
/// Orchestration code replays: no I/O, clocks or randomness here, only the context's (the activities do the work).
/// The policy comes in the input so that a replay decides as the first run did.
/// </remarks>
public sealed class DeliveryOrchestration : TaskOrchestrator<DeliveryWork, DeliveryResult>
{
    public override async Task<DeliveryResult> RunAsync(TaskOrchestrationContext context, DeliveryWork work)
    {
        var last = AttemptResult.Failed(FailureClass.Unexpected, 0, "No attempt was made.");
        for (int round = 1; round <= work.Policy.MaxAttempts; round++)
        {
            var attempt = last = await context.CallActivityAsync<AttemptResult>(RunDeliveryActivity.Name, work);
            if (attempt.Final is { } final)
            {
                return new DeliveryResult(work.DeliveryId, final, attempt.Outcome, attempt.Attempts, FailureClass.None);
            }

            if (work.Policy.NextDelay(attempt.Failure, attempt.Attempts) is not { } delay)
            {
                return await HoldAsync(context, work, attempt);
            }

            var next = context.CurrentUtcDateTime + delay;
            context.SetCustomStatus(new DeliveryProgress(attempt.Attempts, attempt.Failure, next));
            await context.CreateTimer(next, CancellationToken.None);
        }

        return await HoldAsync(context, work, last); // attempts are counted by the activity, so the policy stops first
    }

    private static async Task<DeliveryResult> HoldAsync(TaskOrchestrationContext context, DeliveryWork work, AttemptResult attempt)
    {
        await context.CallActivityAsync<DeliveryRecord?>(HoldDeliveryActivity.Name, new HoldRequest(work.DeliveryId, attempt.Failure, attempt.Error));
        return new DeliveryResult(work.DeliveryId, DeliveryState.Held, null, attempt.Attempts, attempt.Failure);
    }
}
