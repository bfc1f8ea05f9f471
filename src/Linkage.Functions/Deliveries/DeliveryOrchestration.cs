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
    /// <summary>Holding must not be lost to a passing outage: retried for about four hours.</summary>
    private static readonly TaskOptions HoldRetry = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 10, firstRetryInterval: TimeSpan.FromSeconds(30), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromHours(1))));

    public override async Task<DeliveryResult> RunAsync(TaskOrchestrationContext context, DeliveryWork work)
    {
        var last = AttemptResult.Failed(FailureClass.Unexpected, 0, "No attempt was made.");
        for (int round = 1; round <= work.Policy.MaxAttempts; round++)
        {
            AttemptResult attempt;
            try
            {
                attempt = await context.CallActivityAsync<AttemptResult>(RunDeliveryActivity.Name, work);
            }
            catch (TaskFailedException e)
            {
                // The attempt could not even record itself (Cosmos down, say): retry it like a transient failure rather
                // than let the workflow fail and the delivery sit unnoticed.
                attempt = AttemptResult.Failed(FailureClass.Transient, round, $"{e.FailureDetails.ErrorType}: {e.FailureDetails.ErrorMessage.Split('\n', 2)[0]}");
            }

            last = attempt;
            if (attempt.Final is { } final)
            {
                if (final == DeliveryState.Completed && attempt.Outcome is { } outcome)
                {
                    await WakeWorkflowsAsync(context, work, outcome);
                }

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

    /// <summary>Wakes the workflows waiting for this delivery (e.g. an annual refresh for a curated File 2). Best effort: they re-check on their own.</summary>
    private static async Task WakeWorkflowsAsync(TaskOrchestrationContext context, DeliveryWork work, string outcome)
    {
        try
        {
            await context.CallActivityAsync<int>(Workflows.WakeWorkflowsFunction.Name, new Workflows.DeliveryFinished(work.Inbox, work.BlobName.Contains('/', StringComparison.Ordinal) ? work.BlobName.Split('/', 2)[0] : "", outcome), WakeRetry);
        }
        catch (TaskFailedException)
        {
            // A lost wake delays a waiting workflow until its next re-check; it never fails the delivery.
        }
    }

    private static readonly TaskOptions WakeRetry = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2)));

    private static async Task<DeliveryResult> HoldAsync(TaskOrchestrationContext context, DeliveryWork work, AttemptResult attempt)
    {
        await context.CallActivityAsync<DeliveryRecord?>(HoldDeliveryActivity.Name, new HoldRequest(work.DeliveryId, attempt.Failure, attempt.Error, work.Generation), HoldRetry);
        return new DeliveryResult(work.DeliveryId, DeliveryState.Held, null, attempt.Attempts, attempt.Failure);
    }
}
