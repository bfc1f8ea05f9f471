using Linkage.Functions.Catalogue;
using Linkage.Functions.Provisioning;
using Microsoft.DurableTask;

namespace Linkage.Functions.Workflows.Refresh;

/// <summary>
/// A dataset's annual refresh (instance <c>refresh-&lt;dataset&gt;-&lt;YYYY&gt;</c>): wait for the new File 2 to be
/// curated, with reminders, reported late after its deadline but still waiting; wait for its disclosure review if it
/// needs one (woken by the review endpoint; a rejection ends the refresh with the reviewers' reason); re-provision every project that uses the
/// dataset, each with its own retries; store and return the report.
/// </summary>
/// <remarks>
/// Replays: no I/O, clock or randomness here, only the context's. The wait re-checks the catalogue on a timer and wakes
/// early on <see cref="WorkflowEvents.File2Curated"/>; after a timer round it continues as new, so a wait of months keeps
/// a short history. Every effect is an idempotent activity or sub-orchestration under a deterministic instance id, so a host
/// killed at any point resumes without doubling one (a project's file of the version is found and left).
/// </remarks>
public sealed class AnnualRefreshOrchestration : TaskOrchestrator<RefreshRun, RefreshReport?>
{
    public const string Name = nameof(AnnualRefreshOrchestration);

    private static readonly TaskOptions Retry = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 8, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(5))));

    /// <summary>Wakes handled in one episode before it continues as new (each adds a few history events).</summary>
    private const int MaxWakesPerEpisode = 20;

    public static string InstanceIdFor(string datasetId, int year) => $"refresh-{datasetId}-{year:D4}";

    /// <summary>A project's re-provisioning, attempt <paramref name="attempt"/> (a fresh instance each, so a failed one is never reused).</summary>
    public static string ProjectInstanceId(string refreshInstanceId, string projectId, int attempt) => $"{refreshInstanceId}-{projectId}-a{attempt}";

    public override async Task<RefreshReport?> RunAsync(TaskOrchestrationContext context, RefreshRun run)
    {
        var (request, wait) = run;
        RefreshVersion? found;
        int wakes = 0;
        while ((found = await context.CallActivityAsync<RefreshVersion?>(RefreshActivities.FindNewVersion, request, Retry)) is null)
        {
            (wait, bool timerFired) = await WaitForDeliveryAsync(context, request, wait);
            if (timerFired || ++wakes >= MaxWakesPerEpisode)
            {
                // Continue as new only when no timer of this episode is pending (its firing would reach the next
                // episode and be discarded, noisily), or after many wakes, to keep the history short.
                context.ContinueAsNew(new RefreshRun(request, wait), preserveUnprocessedEvents: true);
                return null;
            }
        }

        // The disclosure review, when the version needs one: the review endpoint wakes this refresh; a timer re-reads.
        var releaseWait = new ReleaseWait(request.DatasetId, found.Version, request.ReviewRecheckEvery);
        var release = await context.CallActivityAsync<ReleaseOutcome>(ReadReleaseActivity.Name, releaseWait, Retry);
        int reviewWakes = 0;
        while (!release.Decided)
        {
            context.SetCustomStatus(new RefreshProgress("awaiting disclosure review", $"version {found.Version} awaiting review", found.Version, wait.Late, wait.RemindersSent));
            using var stop = new CancellationTokenSource();
            var reviewed = context.WaitForExternalEvent<ReleaseOutcome>(DisclosureReview.ReviewedEvent, stop.Token);
            var timer = context.CreateTimer(context.CurrentUtcDateTime + Longest(request.ReviewRecheckEvery, DatasetReleaseOrchestration.MinimumRecheck), stop.Token);
            var first = await Task.WhenAny(reviewed, timer);
            stop.Cancel();
            if (first == timer || ++reviewWakes >= MaxWakesPerEpisode)
            {
                // A review can take months: the next episode finds the version again and re-reads its release.
                context.ContinueAsNew(new RefreshRun(request, wait), preserveUnprocessedEvents: true);
                return null;
            }

            release = await context.CallActivityAsync<ReleaseOutcome>(ReadReleaseActivity.Name, releaseWait, Retry);
        }

        if (release.Release == ReleaseState.ReviewRejected)
        {
            return await FinishAsync(context, request, wait, found, RefreshOutcome.ReviewRejected, $"Disclosure review rejected version {found.Version}: {release.Reason}", []);
        }

        // Fan out to the projects that use the dataset.
        var projects = await context.CallActivityAsync<List<RefreshProject>>(RefreshActivities.ListProjects, request.DatasetId, Retry);
        var eligible = projects.Where(p => p.Eligible).ToList();
        int done = 0;
        void Progress() => context.SetCustomStatus(new RefreshProgress("re-provisioning projects", $"projects {done}/{eligible.Count} refreshed", found.Version, wait.Late, wait.RemindersSent));
        Progress();
        var results = await Task.WhenAll(eligible.Select(async p =>
        {
            var result = await RefreshProjectAsync(context, request, p.ProjectId);
            done++;
            Progress();
            return result;
        }));
        var all = results
            .Concat(projects.Where(p => !p.Eligible).Select(p => new ProjectRefreshResult(p.ProjectId, ProjectRefreshOutcome.Skipped, null, 0, 0, p.Reason)))
            .OrderBy(r => r.ProjectId, StringComparer.Ordinal)
            .ToList();
        var outcome = all.Any(r => r.Outcome == ProjectRefreshOutcome.Failed) ? RefreshOutcome.CompletedWithFailures : RefreshOutcome.Completed;
        return await FinishAsync(context, request, wait, found, outcome, null, all);
    }

    /// <summary>One round of the wait: the late notice and reminders when due, then an event or a timer. Returns the new state and whether the timer fired.</summary>
    private static async Task<(RefreshWaitState Wait, bool TimerFired)> WaitForDeliveryAsync(TaskOrchestrationContext context, RefreshRequest request, RefreshWaitState wait)
    {
        var now = context.CurrentUtcDateTime;
        if (!wait.Late && now >= request.LateAt)
        {
            wait = wait with { Late = true, NextReminderAt = now }; // the late notice goes out now
        }

        if (now >= wait.NextReminderAt)
        {
            await context.CallActivityAsync(RefreshActivities.RemindOwner, new RefreshReminder(request.DatasetId, request.Year, wait.RemindersSent + 1, wait.Late, request.LateAt), Retry);
            wait = wait with { RemindersSent = wait.RemindersSent + 1, NextReminderAt = now + Longest(request.RemindEvery, DatasetReleaseOrchestration.MinimumRecheck) };
        }

        context.SetCustomStatus(new RefreshProgress(
            "waiting for the new File 2", wait.Late ? $"late since {request.LateAt:yyyy-MM-dd}" : $"due by {request.LateAt:yyyy-MM-dd}", null, wait.Late, wait.RemindersSent));
        var wakeAt = Earliest(now + Longest(request.RecheckEvery, DatasetReleaseOrchestration.MinimumRecheck), wait.NextReminderAt, wait.Late ? DateTime.MaxValue : request.LateAt);
        using var stop = new CancellationTokenSource();
        var curated = context.WaitForExternalEvent<WorkflowWake>(WorkflowEvents.File2Curated, stop.Token);
        var timer = context.CreateTimer(wakeAt, stop.Token);
        var first = await Task.WhenAny(curated, timer);
        stop.Cancel();
        return (wait, first == timer);
    }

    private static async Task<ProjectRefreshResult> RefreshProjectAsync(TaskOrchestrationContext context, RefreshRequest request, string projectId)
    {
        string? error = null;
        int attempts = Math.Max(1, request.ProjectAttempts);
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            try
            {
                var summary = await context.CallSubOrchestratorAsync<ProvisionSummary>(
                    nameof(ProvisionProjectOrchestration),
                    new ProvisionRequest(projectId, [request.DatasetId]),
                    new SubOrchestrationOptions { InstanceId = ProjectInstanceId(context.InstanceId, projectId, attempt) });
                var d = summary.Datasets.Single();
                var outcome = d.Outcome switch
                {
                    "Provisioned" => ProjectRefreshOutcome.Refreshed,
                    "Unchanged" => ProjectRefreshOutcome.Unchanged,
                    _ => ProjectRefreshOutcome.NotProvisioned,
                };
                return new ProjectRefreshResult(projectId, outcome, d.Version, d.Rows, attempt, outcome == ProjectRefreshOutcome.NotProvisioned ? d.Outcome : null);
            }
            catch (TaskFailedException e)
            {
                error = Describe(e.FailureDetails);
                if (attempt < attempts)
                {
                    await context.CreateTimer(context.CurrentUtcDateTime + request.ProjectRetryDelay * attempt, CancellationToken.None);
                }
            }
        }

        return new ProjectRefreshResult(projectId, ProjectRefreshOutcome.Failed, null, 0, attempts, error);
    }

    private static async Task<RefreshReport> FinishAsync(
        TaskOrchestrationContext context, RefreshRequest request, RefreshWaitState wait, RefreshVersion version, RefreshOutcome outcome, string? reason, IReadOnlyList<ProjectRefreshResult> projects)
    {
        var report = new RefreshReport(context.InstanceId, request.DatasetId, request.Year, outcome, version.Version, version.Rows, wait.Late, wait.RemindersSent, reason, projects, context.CurrentUtcDateTime);
        await context.CallActivityAsync(RefreshActivities.SaveReport, report, Retry);
        context.SetCustomStatus(new RefreshProgress("done", $"projects {report.ProjectsRefreshed}/{projects.Count(p => p.Outcome != ProjectRefreshOutcome.Skipped)} refreshed, {report.ProjectsFailed} failed", version.Version, wait.Late, wait.RemindersSent));
        return report;
    }

    /// <summary>The innermost failure's type and first line: what went wrong, without a stack trace.</summary>
    private static string Describe(TaskFailureDetails? details)
    {
        while (details?.InnerFailure is { } inner)
        {
            details = inner;
        }

        return details is null ? "unknown failure" : $"{details.ErrorType}: {details.ErrorMessage.Split('\n', 2)[0]}";
    }

    private static DateTime Earliest(params DateTime[] times) => times.Min();

    private static TimeSpan Longest(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
