using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Workflows;

/// <summary>Settings of workflow housekeeping (section <c>Workflows</c>).</summary>
public sealed class WorkflowOptions
{
    public const string SectionName = "Workflows";

    /// <summary>Days the history of an ended workflow is kept before the nightly purge deletes it.</summary>
    public int RetainDays { get; set; } = 90;
}

/// <summary>Operators' view of workflows, and the nightly purge of old workflow history.</summary>
[Zone(FunctionZone.Platform)]
public sealed class WorkflowFunctions(ApiGate gate, IOptions<WorkflowOptions> options, TimeProvider time, ILogger<WorkflowFunctions> logger)
{
    /// <summary><c>GET /api/workflows/{instanceId}</c>: where a workflow stands (the status resource of every 202).</summary>
    [Function("WorkflowStatus")]
    [ApiDoc("Read a workflow's status", role: Roles.Operator, Description = "Where a workflow stands: the status resource every 202 answer points to.", Problems = [404])]
    public async Task<IActionResult> Status(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workflows/{instanceId}")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var status = await new DurableWorkflowClient(durable).GetAsync(instanceId, cancellationToken);
        return status is null
            ? Problems.NotFound($"No workflow has the instance id '{instanceId}'. Instance ids come from the Location header of a 202 answer.")
            : new OkObjectResult(WorkflowStatusView.From(status));
    }

    /// <summary>On the schedule in setting <c>WorkflowPurgeSchedule</c> (nightly, <c>0 30 3 * * *</c>): delete the history of workflows that ended more than <see cref="WorkflowOptions.RetainDays"/> ago.</summary>
    [Function("PurgeWorkflowHistory")]
    public async Task Purge([TimerTrigger("%WorkflowPurgeSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().AddDays(-options.Value.RetainDays);
        int purged = await new DurableWorkflowClient(durable).PurgeEndedAsync(before, cancellationToken);
        logger.LogInformation("Purged the history of {Count} workflows that ended before {Before:O}{PastDue}", purged, before, timer.IsPastDue ? " (past due)" : "");
    }
}

/// <summary>The JSON of a workflow's status: custom status and output are passed through as JSON.</summary>
public sealed record WorkflowStatusView(
    string InstanceId,
    string Name,
    WorkflowRuntimeStatus RuntimeStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    System.Text.Json.JsonElement? CustomStatus,
    System.Text.Json.JsonElement? Output,
    string? Failure)
{
    public static WorkflowStatusView From(WorkflowStatus s) =>
        new(s.InstanceId, s.Name, s.RuntimeStatus, s.CreatedAt, s.LastUpdatedAt, Parse(s.CustomStatusJson), Parse(s.OutputJson), s.Failure);

    private static System.Text.Json.JsonElement? Parse(string? json) =>
        string.IsNullOrEmpty(json) ? null : System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();
}
