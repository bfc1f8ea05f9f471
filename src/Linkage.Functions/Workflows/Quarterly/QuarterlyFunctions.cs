using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows.Quarterly;

/// <summary>The quarterly cycle's functions (TTP zone): its orchestration, activities and the timer that starts it (each hands over to its class).</summary>
[Zone(FunctionZone.Ttp)]
public sealed class QuarterlyFunctions(QuarterActivities activities, QuarterStarter starter, ILogger<QuarterlyFunctions> logger)
{
    [Function(QuarterlyOptOutOrchestration.Name)]
    public Task<QuarterReport?> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new QuarterlyOptOutOrchestration().RunAsync(context, context.GetInput<QuarterRun>()!);

    [Function(QuarterActivities.Studies)]
    public Task<List<StudyQuarter>> Studies([ActivityTrigger] QuarterStudiesQuery query, FunctionContext function) =>
        activities.StudiesAsync(query, function.CancellationToken);

    [Function(QuarterActivities.Remind)]
    public Task Remind([ActivityTrigger] QuarterReminder reminder, FunctionContext function) =>
        activities.RemindAsync(reminder, function.CancellationToken);

    [Function(QuarterActivities.CheckOptOutList)]
    public Task<OptOutListCheck> CheckOptOutList([ActivityTrigger] string label, FunctionContext function) =>
        activities.CheckOptOutListAsync(label, function.CancellationToken);

    [Function(QuarterActivities.ReapplyOptOutList)]
    public Task<Ttp.OptOutReapplied> ReapplyOptOutList([ActivityTrigger] QuarterReapply reapply, FunctionContext function) =>
        activities.ReapplyOptOutListAsync(reapply, function.CancellationToken);

    [Function(QuarterActivities.PublishSnapshots)]
    public Task<int> PublishSnapshots([ActivityTrigger] List<string> studies, FunctionContext function) =>
        activities.PublishSnapshotsAsync(studies, function.CancellationToken);

    [Function(QuarterActivities.WriteDelivery)]
    public Task<QuarterDelivery> WriteDelivery([ActivityTrigger] QuarterDeliveryRequest request, FunctionContext function) =>
        activities.WriteDeliveryAsync(request, function.CancellationToken);

    [Function(QuarterActivities.HeldDeliveries)]
    public Task<List<HeldFile1Delivery>> HeldDeliveries([ActivityTrigger] string label, FunctionContext function) =>
        activities.HeldDeliveriesAsync(function.CancellationToken);

    [Function(QuarterActivities.SaveReport)]
    public Task SaveReport([ActivityTrigger] QuarterReport report, FunctionContext function) =>
        activities.SaveReportAsync(report, function.CancellationToken);

    /// <summary>On the schedule in setting <c>QuarterlyOptOutSchedule</c> (default 07:00 on the first day of each quarter): starts the quarter's cycle (a no-op when it exists).</summary>
    [Function("StartQuarterlyOptOut")]
    public async Task StartQuarter([TimerTrigger("%QuarterlyOptOutSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var (year, quarter) = starter.Current();
        var (instanceId, started) = await starter.StartAsync(new DurableWorkflowClient(durable), year, quarter, cancellationToken);
        if (started)
        {
            logger.LogInformation("Started the quarterly opt-out cycle {Instance}", instanceId);
        }
    }
}
