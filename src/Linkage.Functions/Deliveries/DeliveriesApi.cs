using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Workflows;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Deliveries;

/// <summary>Operators' endpoints for deliveries: list (held ones above all), read one, re-drive a held one.</summary>
[Zone(FunctionZone.Platform)]
public sealed class DeliveriesApi(ApiGate gate, DeliveryStore store, DeliveryStarter starter, AuditLog audit)
{
    /// <summary><c>GET /api/deliveries?state=Held</c>: deliveries, newest first; state is optional.</summary>
    [Function("ListDeliveries")]
    [ApiDoc("List deliveries", role: Roles.Operator, Description = "Deliveries, newest first (up to 500); filter with ?state=, e.g. Held for those waiting for an operator.", Query = ["state"], Problems = [400])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deliveries")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        DeliveryState? state = null;
        if (request.Query["state"] is { Count: > 0 } s)
        {
            if (!Enum.TryParse<DeliveryState>(s.ToString(), ignoreCase: true, out var parsed))
            {
                return Problems.BadRequest("bad-state", "Unknown delivery state", $"state must be one of {string.Join(", ", Enum.GetNames<DeliveryState>())}.");
            }

            state = parsed;
        }

        var deliveries = await store.ListAsync(state, 500, cancellationToken);
        return new OkObjectResult(new { state, count = deliveries.Count, deliveries });
    }

    /// <summary><c>GET /api/deliveries/{id}</c>.</summary>
    [Function("GetDelivery")]
    [ApiDoc("Read one delivery", role: Roles.Operator, Description = "A delivery's state, attempts, last error class and provider note.", Problems = [404])]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deliveries/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var record = await store.GetAsync(id, cancellationToken);
        return record is null ? Problems.NotFound($"No delivery has the id '{id}'. List them with GET /api/deliveries.") : new OkObjectResult(record);
    }

    /// <summary><c>POST /api/deliveries/{id}/redrive</c>: tries a held delivery again from a fresh attempt count; 202 with the workflow's status URL.</summary>
    [Function("RedriveDelivery")]
    [ApiDoc("Re-drive a held delivery", role: Roles.Operator, Description = "Tries a held delivery again from a fresh attempt count; answers 202 with the workflow's status URL in Location. Audited.", SuccessStatus = 202, Problems = [404, 409])]
    public async Task<IActionResult> Redrive(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deliveries/{id}/redrive")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        string target = $"delivery/{id}";
        bool wellFormed = DeliveryRef.IsId(id);
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken, wellFormed ? ("deliveries.redrive", target) : null);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        if (!wellFormed)
        {
            return Problems.NotFound($"'{id}' is not a delivery id (d + 24 hex digits). List held ones with GET /api/deliveries?state=Held.");
        }

        var workflows = new DurableWorkflowClient(durable);
        var record = await store.GetAsync(id, cancellationToken);
        IActionResult? refusal = record switch
        {
            null => Problems.NotFound($"No delivery has the id '{id}'. List held ones with GET /api/deliveries?state=Held."),
            { State: DeliveryState.Completed } => Problems.Conflict("delivery-completed", "The delivery was processed", $"Delivery {id} ended as {record.Outcome}; there is nothing to re-drive. To process the file again, upload it again."),
            { State: DeliveryState.Pending or DeliveryState.Running } when await workflows.GetAsync(record.InstanceId, cancellationToken) is { HasEnded: false } =>
                Problems.Conflict("delivery-in-progress", "The delivery is being processed", $"Its workflow {record.InstanceId} is still running; follow it at /api/workflows/{record.InstanceId}."),
            _ => null,
        };
        if (refusal is not null)
        {
            await audit.WriteAsync(access.Caller, access.Role, "deliveries.redrive", target, "failed", ((ObjectResult)refusal).StatusCode ?? 400, null, cancellationToken);
            return refusal;
        }

        // Audited before anything changes, so no re-drive can happen unrecorded; the outcome is audited after.
        await audit.WriteAsync(access.Caller, access.Role, "deliveries.redrive", target, "requested", 0, new Dictionary<string, string>
        {
            ["previousState"] = record!.State.ToString(),
            ["previousGeneration"] = record.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, cancellationToken);
        if (await store.RedriveAsync(id, cancellationToken) is not { } redriven)
        {
            await audit.WriteAsync(access.Caller, access.Role, "deliveries.redrive", target, "failed", StatusCodes.Status409Conflict, null, cancellationToken);
            return Problems.Conflict("delivery-completed", "The delivery was processed", $"Delivery {id} was completed meanwhile; there is nothing to re-drive.");
        }

        await starter.StartWorkflowAsync(redriven, workflows, cancellationToken);
        await audit.WriteAsync(access.Caller, access.Role, "deliveries.redrive", target, "succeeded", StatusCodes.Status202Accepted, new Dictionary<string, string>
        {
            ["instanceId"] = redriven.InstanceId,
            ["generation"] = redriven.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["previousState"] = record.State.ToString(),
            ["previousErrorClass"] = record.LastErrorClass.ToString(),
        }, cancellationToken);
        string location = $"/api/workflows/{redriven.InstanceId}";
        return new AcceptedResult(location, new { id, redriven.InstanceId, statusUrl = location });
    }
}
