using System.Diagnostics;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Health;

/// <summary>A dependency the app needs, checked by <c>GET /api/health</c>.</summary>
public interface IDependencyCheck
{
    string Name { get; }

    Task CheckAsync(CancellationToken cancellationToken);
}

internal sealed class BlobStorageCheck(BlobServiceClient blobs) : IDependencyCheck
{
    public string Name => "blob-storage";

    public async Task CheckAsync(CancellationToken cancellationToken) => await blobs.GetPropertiesAsync(cancellationToken);
}

internal sealed class QueueStorageCheck(QueueServiceClient queues) : IDependencyCheck
{
    public string Name => "queue-storage";

    public async Task CheckAsync(CancellationToken cancellationToken) => await queues.GetPropertiesAsync(cancellationToken);
}

public static class HealthExtensions
{
    public static IServiceCollection AddDependencyCheck<T>(this IServiceCollection services)
        where T : class, IDependencyCheck => services.AddSingleton<IDependencyCheck, T>();

    public static IHostApplicationBuilder AddHealthChecks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDependencyCheck<BlobStorageCheck>();
        builder.Services.AddDependencyCheck<QueueStorageCheck>();
        return builder;
    }
}

/// <summary><c>GET /api/health</c> (anonymous): each dependency's state and latency, the zones and functions this app runs; 503 when any dependency is down.</summary>
[Zone(FunctionZone.Platform)]
public sealed class HealthFunction(IEnumerable<IDependencyCheck> checks, IOptions<ZoneOptions> zones)
{
    [Function("Health")]
    [ApiDoc("Health of the app and its dependencies", role: null, Description = "Each dependency's state and latency, and the zones and functions this app runs; the same body with 503 when a dependency is down.")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(checks.Select(c => RunAsync(c, cancellationToken)));
        bool healthy = results.All(r => r.Status == "ok");
        var enabled = zones.Value.EnabledZones;
        var body = new
        {
            status = healthy ? "healthy" : "unhealthy",
            zones = enabled.Select(z => z.ToString().ToLowerInvariant()).Order(),
            functions = FunctionCatalog.All.Where(f => enabled.Contains(f.Zone)).Select(f => f.Name),
            dependencies = results,
        };
        return new ObjectResult(body) { StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable };
    }

    private static async Task<DependencyStatus> RunAsync(IDependencyCheck check, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await check.CheckAsync(timeout.Token);
            return new DependencyStatus(check.Name, "ok", sw.ElapsedMilliseconds, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new DependencyStatus(check.Name, "error", sw.ElapsedMilliseconds, e.GetType().Name + ": " + e.Message.Split('\n', 2)[0].Trim());
        }
    }

    public sealed record DependencyStatus(string Name, string Status, long LatencyMs, string? Error);
}
