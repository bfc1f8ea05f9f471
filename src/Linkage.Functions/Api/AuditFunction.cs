using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Linkage.Functions.Api;

/// <summary><c>GET /api/audit?target=…</c>: a target's audit entries, newest first (operators).</summary>
[Zone(FunctionZone.Platform)]
public sealed class AuditFunction(ApiGate gate, AuditLog audit)
{
    [Function("Audit")]
    [ApiDoc("Read a target's audit entries", role: Roles.Operator, Description = "Audit entries of one target (e.g. delivery/<id>), newest first; ?max= caps them (1-1000, default 100).", RequiredQuery = ["target"], Query = ["max"], Problems = [400])]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Operator, cancellationToken);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        string? target = request.Query["target"];
        if (string.IsNullOrWhiteSpace(target))
        {
            return Problems.BadRequest("target-required", "A target is required", "Add ?target=<target>, e.g. ?target=delivery/<id> as returned by /api/deliveries.");
        }

        int max = int.TryParse(request.Query["max"], out int m) && m is > 0 and <= 1000 ? m : 100;
        return new OkObjectResult(new { target, entries = await audit.ForTargetAsync(target, max, cancellationToken) });
    }
}
