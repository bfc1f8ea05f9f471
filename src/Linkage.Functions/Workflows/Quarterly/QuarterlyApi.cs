using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows.Quarterly;

/// <summary>Body of <c>POST /api/workflows/quarterly-opt-out</c>.</summary>
public sealed record QuarterStartRequest(int? Year, int? Quarter);

/// <summary>Body of <c>POST /api/workflows/{id}/skip-study</c>.</summary>
public sealed record SkipStudyRequest(string? Study, string? Reason);

/// <summary>Operators start a quarter's cycle and close a study's wait here (role <c>Linkage.Operator</c>). Audited.</summary>
[Zone(FunctionZone.Ttp)]
public sealed class QuarterlyApi(ApiGate gate, AuditLog audit, QuarterStarter starter, QuarterActivities activities, TimeProvider time)
{
    private const string Target = "workflows";

    /// <summary><c>POST /api/workflows/quarterly-opt-out</c>: starts a quarter's cycle (a no-op when it exists).</summary>
    [Function("StartQuarterlyOptOut_Http")]
    [ApiDoc("Start a quarter's opt-out cycle", role: Roles.Operator,
        Description = "Body: {\"year\": YYYY, \"quarter\": 1-4} (both optional: the current quarter). 202 with Location of quarter-<YYYY>-Q<n>; 200 with the same Location when that quarter's cycle exists or ran. Audited.",
        SuccessStatus = 202, Problems = [400])]
    public async Task<IActionResult> Start(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workflows/quarterly-opt-out")] HttpRequest request,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, ("workflows.start", Target));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        QuarterStartRequest? body = await JsonBody.ReadAsync<QuarterStartRequest>(request, cancellationToken) ?? (request.ContentLength is null or 0 ? new QuarterStartRequest(null, null) : null);
        var (year, quarter) = starter.Current();
        var (lastYear, lastQuarter) = quarter == 1 ? (year - 1, 4) : (year, quarter - 1);
        bool known = body is not null && body.Year is null or (>= 2000 and <= 2100) && body.Quarter is null or (>= 1 and <= 4);
        // Only this quarter or the last: an older cycle started late would deliver files a newer one already sent.
        if (!known || (body!.Year ?? year, body.Quarter ?? quarter) is var (y, q) && !((y == year && q == quarter) || (y == lastYear && q == lastQuarter)))
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.start", Target, "refused", 400, null, cancellationToken);
            return Problems.BadRequest("bad-body", "Not this quarter or the last", $"Send JSON: {{\"year\": {year}, \"quarter\": {quarter}}} (both optional: the current quarter), or the previous quarter {lastYear}-Q{lastQuarter}.");
        }

        var (instanceId, started) = await starter.StartAsync(new DurableWorkflowClient(durable), body.Year ?? year, body.Quarter ?? quarter, cancellationToken);
        await audit.WriteAsync(access.Caller, access.Role, "workflows.start", Target, started ? "started" : "exists", started ? 202 : 200, new Dictionary<string, string> { ["instanceId"] = instanceId }, cancellationToken);
        return WorkflowsApi.StartAnswer(request, instanceId, started);
    }

    /// <summary><c>POST /api/workflows/{instanceId}/skip-study</c>: an operator closes a study's wait for this quarter.</summary>
    [Function("SkipQuarterStudy")]
    [ApiDoc("Close a study's wait in a quarter's cycle", role: Roles.Operator,
        Description = "Body: {\"study\": \"<code>\", \"reason\": \"…\"} (both required). The study keeps its previous permissions this quarter and is named in the report with who skipped it and why. 202 with Location of the cycle's status; 409 when the cycle is not waiting. Audited.",
        SuccessStatus = 202, Problems = [400, 404, 409])]
    public async Task<IActionResult> SkipStudy(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workflows/{instanceId}/skip-study")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, ("workflows.skip-study", Target));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var details = new Dictionary<string, string> { ["instanceId"] = WorkflowsApi.Safe(instanceId) };
        var body = await JsonBody.ReadAsync<SkipStudyRequest>(request, cancellationToken);
        if (body?.Study is not { Length: > 0 } study || body.Reason is not { Length: > 0 and <= 500 } reason || !starter.ActiveStudies().Contains(study, StringComparer.Ordinal)
            || Catalogue.DisclosureReview.IdentifierShapedText(reason))
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.skip-study", Target, "refused", 400, details, cancellationToken);
            return Problems.BadRequest("bad-body", "The body is not a study to skip", $"Send JSON: {{\"study\": one of {string.Join(", ", starter.ActiveStudies())}, \"reason\": \"why\" (at most 500 characters, nothing shaped like an NHS number or a postcode)}}.");
        }

        var status = await new DurableWorkflowClient(durable).GetAsync(instanceId, cancellationToken);
        details["study"] = study;
        if (status is null || status.Name != QuarterlyOptOutOrchestration.Name)
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.skip-study", Target, "not-found", 404, details, cancellationToken);
            return Problems.NotFound($"No quarterly cycle has the instance id '{WorkflowsApi.Safe(instanceId)}'. Quarterly cycles are quarter-<YYYY>-Q<n>.");
        }

        if (status.HasEnded)
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.skip-study", Target, "refused", 409, details, cancellationToken);
            return Problems.Conflict("workflow-ended", "The cycle has ended", $"{instanceId} is {status.RuntimeStatus}; it waits for no study.");
        }

        // Stored first (the cycle reads it), then the cycle is woken: a lost wake only delays it to its next re-check.
        var skip = new SkipStudy(study, access.Caller.Name, reason);
        bool recorded = await activities.RecordSkipAsync(instanceId, skip, time.GetUtcNow(), cancellationToken);
        await durable.RaiseEventAsync(instanceId, QuarterlyOptOutOrchestration.SkipStudyEvent, new WorkflowWake(study, "Skipped"), cancellationToken);
        details["reason"] = reason;
        await audit.WriteAsync(access.Caller, access.Role, "workflows.skip-study", Target, recorded ? "skipped" : "already-skipped", 202, details, cancellationToken);
        string location = $"/api/workflows/{instanceId}";
        return new AcceptedResult(location, new { instanceId, study, statusUrl = location });
    }
}
