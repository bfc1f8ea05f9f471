using Linkage.Functions.Hosting;
using Linkage.Functions.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Linkage.Functions.Provisioning;

/// <summary>What to provision: a project and its datasets (fixed when the run starts, so a replay decides the same).</summary>
public sealed record ProvisionRequest(string ProjectId, IReadOnlyList<string> Datasets);

/// <summary>One dataset of a project (an activity's input).</summary>
public sealed record ProvisionDatasetRequest(string ProjectId, string DatasetId);

/// <summary>The run's progress, as its custom status: counts and names of datasets only.</summary>
public sealed record ProvisionProgress(string Step, int DatasetsDone, int DatasetsTotal, long RowsDone);

/// <summary>The run's output.</summary>
public sealed record ProvisionSummary(string ProjectId, int? CohortSize, IReadOnlyList<DatasetProvisionResult> Datasets, long Rows);

/// <summary>
/// Provisions a project: freezes its cohort (first time only), then each approved dataset in turn. Each step is an
/// idempotent activity retried on failure, so a host killed mid-run resumes and writes nothing twice (a committed file
/// is found and left; a staged one is written again under the same name).
/// </summary>
/// <remarks>Replays: no I/O or clock here, only the context's.</remarks>
public sealed class ProvisionProjectOrchestration : TaskOrchestrator<ProvisionRequest, ProvisionSummary>
{
    private static readonly TaskOptions Retry = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(5))));

    public override async Task<ProvisionSummary> RunAsync(TaskOrchestrationContext context, ProvisionRequest request)
    {
        context.SetCustomStatus(new ProvisionProgress("freezing the cohort", 0, request.Datasets.Count, 0));
        int? cohort = await context.CallActivityAsync<int?>(ProvisioningFunctions.FreezeCohort, request.ProjectId, Retry);
        var results = new List<DatasetProvisionResult>();
        long rows = 0;
        foreach (var dataset in request.Datasets)
        {
            context.SetCustomStatus(new ProvisionProgress($"provisioning {dataset}", results.Count, request.Datasets.Count, rows));
            var result = await context.CallActivityAsync<DatasetProvisionResult>(ProvisioningFunctions.ProvisionDataset, new ProvisionDatasetRequest(request.ProjectId, dataset), Retry);
            results.Add(result);
            rows += result.Rows;
        }

        context.SetCustomStatus(new ProvisionProgress("done", results.Count, request.Datasets.Count, rows));
        return new ProvisionSummary(request.ProjectId, cohort, results, rows);
    }
}

/// <summary>The provisioning workflow's functions (each hands over to its class).</summary>
[Zone(FunctionZone.Provisioning)]
public sealed class ProvisioningFunctions(ProjectProvisioner provisioner, ProjectStore store, ProjectEnding ending)
{
    public const string FreezeCohort = "FreezeProjectCohort";
    public const string ProvisionDataset = "ProvisionProjectDataset";

    [Function(nameof(ProvisionProjectOrchestration))]
    public Task<ProvisionSummary> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new ProvisionProjectOrchestration().RunAsync(context, context.GetInput<ProvisionRequest>()!);

    [Function(FreezeCohort)]
    public async Task<int?> Freeze([ActivityTrigger] string projectId, FunctionContext function) =>
        (await provisioner.FreezeCohortAsync(projectId, function.CancellationToken)).CohortSize;

    [Function(ProvisionDataset)]
    public Task<DatasetProvisionResult> Provision([ActivityTrigger] ProvisionDatasetRequest request, FunctionContext function) =>
        provisioner.ProvisionDatasetAsync(request.ProjectId, request.DatasetId, function.CancellationToken);

    /// <summary>Daily (setting <c>ProjectFilesPurgeSchedule</c>, default 04:00): deletes ended projects' files whose retention has passed.</summary>
    [Function("DeleteEndedProjectFiles")]
    public async Task DeleteEndedFiles([TimerTrigger("%ProjectFilesPurgeSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        foreach (var project in await store.ListAsync(cancellationToken))
        {
            await ending.DeleteFilesAsync(project, cancellationToken);
        }
    }
}
