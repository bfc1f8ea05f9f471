using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Hosting;

/// <summary>
/// Refuses to run a function of a zone this app does not run. The deployment disables those functions already
/// (<c>AzureWebJobs.&lt;Function&gt;.Disabled</c>); this catches a deployment whose settings and zones disagree.
/// </summary>
public sealed class ZoneGuardMiddleware(IOptions<ZoneOptions> zones, ILogger<ZoneGuardMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var entry = FunctionCatalog.Find(context.FunctionDefinition.Name);
        if (entry is not null && !zones.Value.EnabledZones.Contains(entry.Zone))
        {
            logger.LogError("Function {Function} belongs to zone {Zone}, which this app does not run (Runtime:Zones = {Zones}); refused", entry.Name, entry.Zone, zones.Value.Zones);
            throw new UnauthorizedAccessException($"Function {entry.Name} belongs to zone {entry.Zone}, which this app does not run.");
        }

        return next(context);
    }
}
