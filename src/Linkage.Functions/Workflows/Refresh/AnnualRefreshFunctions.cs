using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows.Refresh;

/// <summary>The annual refresh's functions: its orchestration, activities and the daily timer that starts it (each hands over to its class).</summary>
[Zone(FunctionZone.Provisioning)]
public sealed class AnnualRefreshFunctions(RefreshActivities activities, RefreshStarter starter, TimeProvider time, ILogger<AnnualRefreshFunctions> logger)
{
    [Function(AnnualRefreshOrchestration.Name)]
    public Task<RefreshReport?> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new AnnualRefreshOrchestration().RunAsync(context, context.GetInput<RefreshRun>()!);

    [Function(RefreshActivities.FindNewVersion)]
    public Task<RefreshVersion?> FindNewVersion([ActivityTrigger] RefreshRequest request, FunctionContext function) =>
        activities.FindNewVersionAsync(request, function.CancellationToken);

    [Function(RefreshActivities.RemindOwner)]
    public Task RemindOwner([ActivityTrigger] RefreshReminder reminder, FunctionContext function) =>
        activities.RemindOwnerAsync(reminder, function.CancellationToken);

    [Function(RefreshActivities.ListProjects)]
    public Task<List<RefreshProject>> ListProjects([ActivityTrigger] string datasetId, FunctionContext function) =>
        activities.ListProjectsAsync(datasetId, function.CancellationToken);

    [Function(RefreshActivities.SaveReport)]
    public Task SaveReport([ActivityTrigger] RefreshReport report, FunctionContext function) =>
        activities.SaveReportAsync(report, function.CancellationToken);

    /// <summary>Daily (setting <c>AnnualRefreshSchedule</c>, default 06:00): starts this year's refresh of each annual dataset whose expected month has opened (a no-op when it exists).</summary>
    [Function("StartAnnualRefreshes")]
    public async Task StartDue([TimerTrigger("%AnnualRefreshSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var workflows = new DurableWorkflowClient(durable);
        foreach (var (dataset, year) in starter.Due())
        {
            var start = await starter.StartAsync(workflows, dataset, year, null, cancellationToken);
            if (start.Started)
            {
                logger.LogInformation("Started the annual refresh {Instance} ({Now:yyyy-MM-dd})", start.InstanceId, time.GetUtcNow());
            }
        }
    }
}
