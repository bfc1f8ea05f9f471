using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows.Refresh;

/// <summary>Body of <c>POST /api/workflows/annual-refresh</c>.</summary>
public sealed record AnnualRefreshStartRequest(string? Dataset, int? Year, int? AfterVersion);

/// <summary>Operators start annual refreshes here (role <c>Linkage.Operator</c>); the timer starts them too. Audited.</summary>
[Zone(FunctionZone.Provisioning)]
public sealed class RefreshApi(ApiGate gate, AuditLog audit, RefreshStarter refreshes, DatasetSpecs specs, TimeProvider time)
{
    private const string Target = "workflows";

    /// <summary><c>POST /api/workflows/annual-refresh</c>: starts a dataset's refresh of a year (a no-op when it exists).</summary>
    [Function("StartAnnualRefresh")]
    [ApiDoc("Start a dataset's annual refresh", role: Roles.Operator,
        Description = "Body: {\"dataset\": id, \"year\": YYYY (default this year), \"afterVersion\": n (optional: the version a delivery must be newer than; default the version the previous refresh handled)}. "
            + "202 with Location of refresh-<dataset>-<YYYY>; 200 with the same Location when that refresh exists or ran. Audited.",
        SuccessStatus = 202, Problems = [400, 404])]
    public async Task<IActionResult> StartAnnualRefresh(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "workflows/annual-refresh")] HttpRequest request,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, ("workflows.start", Target));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var body = await JsonBody.ReadAsync<AnnualRefreshStartRequest>(request, cancellationToken);

        int thisYear = time.GetUtcNow().Year;
        if (body?.Dataset is not { Length: > 0 } dataset || body.Year is < 2000 or > 2100 || body.AfterVersion is < 0)
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.start", Target, "refused", 400, null, cancellationToken);
            return Problems.BadRequest("bad-body", "The body is not a refresh request", $"Send JSON: {{\"dataset\": \"<dataset id>\", \"year\": {thisYear} (optional), \"afterVersion\": <n> (optional, 0 or more)}}.");
        }

        if (!specs.TryGet(dataset, out _))
        {
            await audit.WriteAsync(access.Caller, access.Role, "workflows.start", Target, "refused", 404, null, cancellationToken);
            return Problems.NotFound($"No dataset has the id '{WorkflowsApi.Safe(dataset)}'. Datasets: {string.Join(", ", specs.All.Select(s => s.DatasetId).Order(StringComparer.Ordinal))}.");
        }

        var start = await refreshes.StartAsync(new DurableWorkflowClient(durable), dataset, body.Year ?? thisYear, body.AfterVersion, cancellationToken);
        await audit.WriteAsync(access.Caller, access.Role, "workflows.start", Target, start.Started ? "started" : "exists", start.Started ? 202 : 200, new Dictionary<string, string>
        {
            ["instanceId"] = start.InstanceId,
            ["dataset"] = dataset,
        }, cancellationToken);
        return WorkflowsApi.StartAnswer(request, start.InstanceId, start.Started);
    }

}
