using Linkage.Functions.Catalogue;
using Linkage.Functions.Ttp;
using Microsoft.DurableTask;

namespace Linkage.Functions.Workflows.Quarterly;

/// <summary>
/// The quarterly opt-out cycle (instance <c>quarter-&lt;YYYY&gt;-Q&lt;n&gt;</c>, so a second start of a quarter is a
/// no-op): wait until every active study's File 1 of the quarter is accepted, the deadline passes or an operator skips
/// the study, reminding late providers; check the national opt-out list (fail closed for s251 studies) and re-apply it
/// to every study's newest File 1 (decision 0801); make sure each
/// study's permission snapshot is published to the processor; write the quarter's delivery to NHS England (one delta
/// of what it acts on, the NHS Outputs that changed, a manifest with checksums); store and return the report.
/// </summary>
/// <remarks>
/// Replays: no I/O, clock or randomness here, only the context's. The wait re-reads the File 1 records on a timer and
/// wakes early on <see cref="WorkflowEvents.File1Accepted"/> or an operator's <see cref="SkipStudyEvent"/>; after a
/// timer round it continues as new (unprocessed events carried over). Events are hints only: the skip itself is stored by the API and
/// read by the studies activity, so an event lost in a continue-as-new delays the cycle to its next re-check, never
/// loses a skip. The delivery is written once: its manifest is the commit point,
/// and a re-run finds it.
/// </remarks>
public sealed class QuarterlyOptOutOrchestration : TaskOrchestrator<QuarterRun, QuarterReport?>
{
    public const string Name = nameof(QuarterlyOptOutOrchestration);

    /// <summary>The operator's skip of a study: a wake only (payload <see cref="WorkflowWake"/>); the skip itself is stored.</summary>
    public const string SkipStudyEvent = "SkipStudy";

    private static readonly TaskOptions Retry = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 8, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(5))));

    /// <summary>Wakes handled in one episode before it continues as new (each adds a few history events).</summary>
    private const int MaxWakesPerEpisode = 20;

    public static string InstanceIdFor(int year, int quarter) => $"quarter-{year:D4}-Q{quarter}";

    public override async Task<QuarterReport?> RunAsync(TaskOrchestrationContext context, QuarterRun run)
    {
        var (request, wait) = run;
        int wakes = 0;
        List<StudyQuarter> studies;
        List<string> waiting;
        while (true)
        {
            studies = await context.CallActivityAsync<List<StudyQuarter>>(QuarterActivities.Studies, new QuarterStudiesQuery(context.InstanceId, request), Retry);
            waiting = studies.Where(s => s.State is StudyQuarterState.NotDelivered or StudyQuarterState.Rejected).Select(s => s.Study).ToList();
            if (waiting.Count == 0 || context.CurrentUtcDateTime >= request.Deadline)
            {
                break;
            }

            (wait, bool timerFired) = await WaitForStudiesAsync(context, request, wait, waiting, studies);
            if (timerFired || ++wakes >= MaxWakesPerEpisode)
            {
                // Continue as new only when no timer of this episode is pending (it would reach the next episode and be
                // discarded, noisily), or after many wakes, to keep the history short.
                context.ContinueAsNew(new QuarterRun(request, wait), preserveUnprocessedEvents: true);
                return null;
            }
        }

        context.SetCustomStatus(new QuarterProgress("checking the national opt-out list", Delivered(studies), waiting, wait.RemindersSent));
        var list = await context.CallActivityAsync<OptOutListCheck>(QuarterActivities.CheckOptOutList, request.Label, Retry);

        // Without a usable list, s251 studies send NHS England nothing this quarter: their files are held, and named.
        var accepted = studies.Where(s => s.State == StudyQuarterState.Accepted).ToList();
        // A record that does not say (-1: made before s251 participants were counted) is held too: fail closed.
        List<string> held = list.Usable ? [] : accepted.Where(s => s.S251Participants != 0).Select(s => s.Study).ToList();
        // The cycle's list reaches every study's s251 participants now, not only at each study's next File 1.
        List<OptOutReapplied> reapplied = [];
        if (list.Usable)
        {
            context.SetCustomStatus(new QuarterProgress("re-applying the national opt-out list", Delivered(studies), waiting, wait.RemindersSent));
            reapplied = [.. await Task.WhenAll(request.Studies.Select(s => context.CallActivityAsync<OptOutReapplied>(QuarterActivities.ReapplyOptOutList, new QuarterReapply(request.Label, s), Retry)))];
        }

        context.SetCustomStatus(new QuarterProgress("publishing permission snapshots", Delivered(studies), waiting, wait.RemindersSent));
        int published = await context.CallActivityAsync<int>(QuarterActivities.PublishSnapshots, accepted.Select(s => s.Study).ToList(), Retry);

        context.SetCustomStatus(new QuarterProgress("writing the delivery to NHS England", Delivered(studies), waiting, wait.RemindersSent));
        var delivery = await context.CallActivityAsync<QuarterDelivery>(
            QuarterActivities.WriteDelivery,
            new QuarterDeliveryRequest(request.Label, accepted.Where(s => !held.Contains(s.Study)).ToList(), held)
            {
                Revised = reapplied.Where(r => r.Outcome == OptOutReapplyOutcome.Revised).Select(r => r.Study).ToList(),
            },
            Retry);

        var heldDeliveries = await context.CallActivityAsync<List<HeldFile1Delivery>>(QuarterActivities.HeldDeliveries, request.Label, Retry);
        var report = new QuarterReport(
            context.InstanceId, request.Label, studies, list, held, held.Count > 0 ? $"no usable national opt-out list: {list.Reason}" : null,
            published, delivery, wait.RemindersSent, context.CurrentUtcDateTime)
        { HeldDeliveries = heldDeliveries, OptOutReapplied = reapplied };
        await context.CallActivityAsync(QuarterActivities.SaveReport, report, Retry);
        context.SetCustomStatus(new QuarterProgress("done", Delivered(studies), waiting, wait.RemindersSent));
        return report;
    }

    /// <summary>One round of the wait: reminders when due, then an accepted File 1, a skip or a timer. Returns the new state and whether the timer fired.</summary>
    private static async Task<(QuarterWaitState Wait, bool TimerFired)> WaitForStudiesAsync(TaskOrchestrationContext context, QuarterRequest request, QuarterWaitState wait, List<string> waiting, IReadOnlyList<StudyQuarter> studies)
    {
        var now = context.CurrentUtcDateTime;
        if (now >= wait.NextReminderAt)
        {
            await context.CallActivityAsync(QuarterActivities.Remind, new QuarterReminder(request.Label, waiting, wait.RemindersSent + 1, request.Deadline), Retry);
            wait = wait with { RemindersSent = wait.RemindersSent + 1, NextReminderAt = now + Longest(request.RemindEvery, DatasetReleaseOrchestration.MinimumRecheck) };
        }

        context.SetCustomStatus(new QuarterProgress("waiting for File 1s", Delivered(studies), waiting, wait.RemindersSent));
        var wakeAt = new[] { now + Longest(request.RecheckEvery, DatasetReleaseOrchestration.MinimumRecheck), wait.NextReminderAt, request.Deadline }.Min();
        using var stop = new CancellationTokenSource();
        var accepted = context.WaitForExternalEvent<WorkflowWake>(WorkflowEvents.File1Accepted, stop.Token);
        var skip = context.WaitForExternalEvent<WorkflowWake>(SkipStudyEvent, stop.Token);
        var timer = context.CreateTimer(wakeAt, stop.Token);
        var first = await Task.WhenAny(accepted, skip, timer);
        stop.Cancel();
        return (wait, first == timer);
    }

    private static string Delivered(IReadOnlyList<StudyQuarter> studies)
    {
        int skipped = studies.Count(s => s.State == StudyQuarterState.Skipped);
        return $"studies {studies.Count(s => s.State == StudyQuarterState.Accepted)}/{studies.Count} delivered" + (skipped > 0 ? $", {skipped} skipped" : "");
    }

    private static TimeSpan Longest(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
