using System.Globalization;
using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Workflows.Quarterly;
using Linkage.Functions.Workflows.Refresh;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows;

/// <summary>Body of <c>POST /api/workflows/{id}/terminate</c>.</summary>
public sealed record TerminateRequest(string? Reason);

/// <summary>One workflow in a list answer (no input, no output: names, states and the custom status).</summary>
public sealed record WorkflowListItem(string InstanceId, string Name, WorkflowRuntimeStatus RuntimeStatus, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt, JsonElement? CustomStatus);

/// <summary>Operators follow and stop workflows here (role <c>Linkage.Operator</c>): list, read, terminate. Every call is audited. Starting is per workflow (e.g. <see cref="RefreshApi"/>).</summary>
[Zone(FunctionZone.Platform)]
public sealed class WorkflowsApi(ApiGate gate, AuditLog audit, WorkflowReportStore reports)
{
    private const string Target = "workflows";

    /// <summary>Short names operators may filter by, beside the orchestrations' own names.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["annual-refresh"] = AnnualRefreshOrchestration.Name,
        ["quarterly-opt-out"] = QuarterlyOptOutOrchestration.Name,
    };

    /// <summary>Instance-id prefixes of the workflows with business keys, so a filtered list reads only their instances.</summary>
    private static readonly Dictionary<string, string> Prefixes = new(StringComparer.Ordinal)
    {
        [AnnualRefreshOrchestration.Name] = "refresh-",
        [QuarterlyOptOutOrchestration.Name] = "quarter-",
    };

    /// <summary><c>GET /api/workflows</c>: workflows, newest first, filtered by name, status and creation date.</summary>
    [Function("ListWorkflows")]
    [ApiDoc("List workflows", role: Roles.Operator,
        Description = "Newest first. Filters: name (an orchestration name, or annual-refresh, quarterly-opt-out), status (Running, Completed, Failed, Terminated, Pending), from and to (creation time, ISO 8601), top (default 100, at most 1000). Audited.",
        Query = ["name", "status", "from", "to", "top"], Problems = [400])]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workflows")] HttpRequest request,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, ("workflows.list", Target));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var q = request.Query;
        string? name = q["name"].FirstOrDefault() is { Length: > 0 } n ? Aliases.GetValueOrDefault(n, n) : null;
        List<OrchestrationRuntimeStatus>? statuses = null;
        if (q["status"].FirstOrDefault() is { Length: > 0 } s)
        {
            if (!Enum.TryParse<OrchestrationRuntimeStatus>(s, ignoreCase: true, out var status) || !Enum.IsDefined(status))
            {
                await audit.WriteAsync(access.Caller, access.Role, "workflows.list", Target, "refused", 400, null, cancellationToken);
                return Problems.BadRequest("bad-status", "Unknown status", $"'{s}' is not a workflow status. Use Running, Completed, Failed, Terminated or Pending.");
            }

            statuses = [status];
        }

        if (!TryDate(q["from"].FirstOrDefault(), out var from) || !TryDate(q["to"].FirstOrDefault(), out var to))
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.list", Target, "refused", 400, null, cancellationToken);
            return Problems.BadRequest("bad-date", "Unreadable date", "Give from and to as ISO 8601 UTC times, e.g. 2026-04-01T00:00:00Z.");
        }

        int top = int.TryParse(q["top"].FirstOrDefault(), out int t) ? Math.Clamp(t, 1, 1000) : 100;
        var query = new OrchestrationQuery { CreatedFrom = from, CreatedTo = to, Statuses = statuses, PageSize = 100, InstanceIdPrefix = name is null ? null : Prefixes.GetValueOrDefault(name) };
        var items = new List<WorkflowListItem>();
        await foreach (var m in durable.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (name is null || string.Equals(m.Name, name, StringComparison.Ordinal))
            {
                items.Add(new WorkflowListItem(m.InstanceId, m.Name, DurableWorkflowClient.StatusOf(m.RuntimeStatus), m.CreatedAt, m.LastUpdatedAt, Parse(m.SerializedCustomStatus)));
            }
        }

        var newest = items.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.InstanceId, StringComparer.Ordinal).Take(top).ToList();
        await audit.WriteAsync(access.Caller, access.Role, "workflows.list", Target, "succeeded", StatusCodes.Status200OK, new Dictionary<string, string> { ["count"] = newest.Count.ToString(CultureInfo.InvariantCulture) }, cancellationToken);
        return new OkObjectResult(new { workflows = newest, count = newest.Count });
    }

    /// <summary><c>GET /api/workflows/{instanceId}</c>: where a workflow stands (the status resource of every 202); its stored report once its history is purged.</summary>
    [Function("WorkflowStatus")]
    [ApiDoc("Read a workflow's status", role: Roles.Operator,
        Description = "Where a workflow stands: runtime status, custom status (step and progress), output (its report) and failure. The status resource every 202 answer points to. After the history is purged, the stored report of a refresh is answered. Audited.",
        Problems = [404])]
    public async Task<IActionResult> Status(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "workflows/{instanceId}")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, ("workflows.read", Target));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var status = await new DurableWorkflowClient(durable).GetAsync(instanceId, cancellationToken);
        var stored = status is null && WorkflowOfPrefix(instanceId) is { } workflow ? await reports.GetAsync(workflow, instanceId, cancellationToken) : null;
        bool found = status is not null || stored is not null;
        await audit.WriteAsync(access.Caller, access.Role, "workflows.read", Target, found ? "succeeded" : "not-found", found ? 200 : 404, new Dictionary<string, string> { ["instanceId"] = Safe(instanceId) }, cancellationToken);
        if (status is not null)
        {
            return new OkObjectResult(WorkflowStatusView.From(status));
        }

        if (stored is not null)
        {
            return new OkObjectResult(new WorkflowStatusView(instanceId, stored.Workflow, WorkflowRuntimeStatus.Completed, stored.CompletedAt, stored.CompletedAt, null, stored.Report, null) { HistoryPurged = true });
        }

        return Problems.NotFound($"No workflow has the instance id '{Safe(instanceId)}'. Instance ids come from the Location header of a 202 answer, or from GET /api/workflows.");
    }

    /// <summary><c>POST /api/workflows/{instanceId}/terminate</c>: stops a running workflow, with the operator's reason.</summary>
    [Function("TerminateWorkflow")]
    [ApiDoc("Terminate a workflow", role: Roles.Operator,
        Description = "Body: {\"reason\": \"…\"} (required). Stops a running or pending workflow; 409 when it has ended. 202 with Location of its status. Audited.",
        SuccessStatus = 202, Problems = [400, 404, 409])]
    public async Task<IActionResult> Terminate(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workflows/{instanceId}/terminate")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, ("workflows.terminate", Target));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var body = await JsonBody.ReadAsync<TerminateRequest>(request, cancellationToken);

        var client = new DurableWorkflowClient(durable);
        var status = await client.GetAsync(instanceId, cancellationToken);
        var details = new Dictionary<string, string> { ["instanceId"] = Safe(instanceId) };
        if (status is null)
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.terminate", Target, "not-found", 404, details, cancellationToken);
            return Problems.NotFound($"No workflow has the instance id '{Safe(instanceId)}'.");
        }

        if (body?.Reason is not { Length: > 0 } reason || reason.Length > 500 || Catalogue.DisclosureReview.IdentifierShapedText(reason))
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.terminate", Target, "refused", 400, details, cancellationToken);
            return Problems.BadRequest("bad-body", "A reason is required", "Send JSON: {\"reason\": \"why the workflow is stopped\"} (at most 500 characters, nothing shaped like an NHS number or a postcode).");
        }

        if (status.HasEnded)
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.terminate", Target, "refused", 409, details, cancellationToken);
            return Problems.Conflict("workflow-ended", "The workflow has ended", $"{Safe(instanceId)} is {status.RuntimeStatus}; there is nothing to stop.");
        }

        await client.TerminateAsync(instanceId, $"Terminated by {access.Caller.Name}: {reason}", cancellationToken);
        details["reason"] = reason;
        await audit.WriteAsync(access.Caller, access.Role, "workflows.terminate", Target, "terminated", 202, details, cancellationToken);
        string location = $"/api/workflows/{instanceId}";
        return new AcceptedResult(location, new { instanceId, statusUrl = location });
    }

    /// <summary>The answer to a workflow start: 202 when this call started it, 200 when it exists or ran; both with Location of its status.</summary>
    internal static IActionResult StartAnswer(HttpRequest request, string instanceId, bool started)
    {
        string location = $"/api/workflows/{instanceId}";
        var answer = new { instanceId, started, statusUrl = location };
        if (started)
        {
            return new AcceptedResult(location, answer);
        }

        request.HttpContext.Response.Headers.Location = location;
        return new OkObjectResult(answer);
    }

    /// <summary>Echoes only what looks like an instance id or dataset id, so an answer or audit entry never repeats arbitrary input.</summary>
    internal static string Safe(string text) =>
        text.Length <= 120 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? text : "(not an instance id)";

    /// <summary>The workflow whose stored report an instance id would name (business-key prefixes), or null.</summary>
    private static string? WorkflowOfPrefix(string instanceId) =>
        Prefixes.FirstOrDefault(p => instanceId.StartsWith(p.Value, StringComparison.Ordinal)).Key;

    private static bool TryDate(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d))
        {
            value = d;
            return true;
        }

        return false;
    }

    private static JsonElement? Parse(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonDocument.Parse(json).RootElement.Clone();
}
