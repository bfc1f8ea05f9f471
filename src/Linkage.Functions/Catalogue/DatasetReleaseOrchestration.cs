using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Linkage.Functions.Catalogue;

/// <summary>What to wait for: a committed version's release decision, re-checked at least every <see cref="RecheckEvery"/>.</summary>
public sealed record ReleaseWait(string DatasetId, int Version, TimeSpan RecheckEvery);

/// <summary>
/// Waits until a committed version's disclosure review ends and returns how (released, or rejected with the reason):
/// the step the annual refresh runs as a sub-orchestration (instance <see cref="InstanceIdFor"/>). It reads the catalogue
/// first (a version released at commit, or decided before the wait began, ends it at once), then sleeps until the review
/// endpoint's <see cref="DisclosureReview.ReviewedEvent"/> or the re-check timer, whichever comes first.
/// </summary>
/// <remarks>
/// Replays: no I/O or clock here but the context's. Each timer round continues as new, so a review that takes months
/// keeps a short history; events that arrived meanwhile are carried over.
/// </remarks>
public sealed class DatasetReleaseOrchestration : TaskOrchestrator<ReleaseWait, ReleaseOutcome>
{
    /// <summary>A catalogue read that fails for a while (Cosmos throttled or down) is retried, not the end of the wait.</summary>
    private static readonly TaskOptions ReadRetry = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 8, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(5))));

    /// <summary>The shortest re-check period: a zero or negative one would spin.</summary>
    public static readonly TimeSpan MinimumRecheck = TimeSpan.FromSeconds(2);

    public static string InstanceIdFor(string datasetId, int version) => $"release-{datasetId}-{CurationCatalogue.VersionId(version)}";

    public override async Task<ReleaseOutcome> RunAsync(TaskOrchestrationContext context, ReleaseWait wait)
    {
        var now = await context.CallActivityAsync<ReleaseOutcome>(ReadReleaseActivity.Name, wait, ReadRetry);
        if (now.Decided)
        {
            return now;
        }

        context.SetCustomStatus(new { step = "awaiting review", wait.DatasetId, wait.Version });
        using var stop = new CancellationTokenSource();
        var reviewed = context.WaitForExternalEvent<ReleaseOutcome>(DisclosureReview.ReviewedEvent, stop.Token);
        var recheck = context.CreateTimer(context.CurrentUtcDateTime + (wait.RecheckEvery < MinimumRecheck ? MinimumRecheck : wait.RecheckEvery), stop.Token);
        var first = await Task.WhenAny(reviewed, recheck);
        stop.Cancel();
        if (first == reviewed)
        {
            // The event wakes the wait; the catalogue decides what it says.
            return await context.CallActivityAsync<ReleaseOutcome>(ReadReleaseActivity.Name, wait, ReadRetry);
        }

        context.ContinueAsNew(wait, preserveUnprocessedEvents: true);
        return now;
    }
}

/// <summary>Reads a version's release state from the catalogue (an activity: the orchestration does no I/O).</summary>
public sealed class ReadReleaseActivity(CurationCatalogue catalogue) : TaskActivity<ReleaseWait, ReleaseOutcome>
{
    public const string Name = "ReadRelease";

    public CancellationToken CancellationToken { get; set; }

    public override async Task<ReleaseOutcome> RunAsync(TaskActivityContext context, ReleaseWait wait) =>
        await catalogue.GetVersionAsync(wait.DatasetId, wait.Version, CancellationToken) is { } version
            ? DisclosureReview.OutcomeOf(version)
            : throw new InvalidOperationException($"Dataset {wait.DatasetId} has no committed version {wait.Version} to wait for.");
}

/// <summary>The release wait's functions (each hands over to its class).</summary>
[Zone(FunctionZone.Processor)]
public sealed class DatasetReleaseFunctions
{
    [Function(nameof(DatasetReleaseOrchestration))]
    public Task<ReleaseOutcome> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new DatasetReleaseOrchestration().RunAsync(context, context.GetInput<ReleaseWait>()!);

    [Function(ReadReleaseActivity.Name)]
    public Task<ReleaseOutcome> ReadRelease([ActivityTrigger] ReleaseWait wait, string instanceId, FunctionContext function)
    {
        var activity = ActivatorUtilities.CreateInstance<ReadReleaseActivity>(function.InstanceServices);
        activity.CancellationToken = function.CancellationToken;
        return activity.RunAsync(new FunctionActivityContext(ReadReleaseActivity.Name, instanceId), wait);
    }
}
