using System.Diagnostics;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Linkage.Functions.Runtime;
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

public static class HealthApi
{
    public static IServiceCollection AddDependencyCheck<T>(this IServiceCollection services)
        where T : class, IDependencyCheck => services.AddSingleton<IDependencyCheck, T>();

    public static IHostApplicationBuilder AddHealthChecks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDependencyCheck<BlobStorageCheck>();
        builder.Services.AddDependencyCheck<QueueStorageCheck>();
        return builder;
    }

    /// <summary><c>GET /api/health</c>: each dependency's state and latency; 503 when any is down.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/health", async (IEnumerable<IDependencyCheck> checks, FunctionCatalog catalog, IOptions<FunctionRuntimeOptions> runtime, CancellationToken ct) =>
        {
            var results = await Task.WhenAll(checks.Select(c => RunAsync(c, ct)));
            bool healthy = results.All(r => r.Status == "ok");
            var body = new
            {
                status = healthy ? "healthy" : "unhealthy",
                mode = runtime.Value.Mode,
                zones = runtime.Value.EnabledZones.Select(z => z.ToString().ToLowerInvariant()).Order(),
                functions = catalog.Functions.Select(f => f.Definition.Name).Order(),
                dependencies = results,
            };
            return Results.Json(body, statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
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
            return new DependencyStatus(check.Name, "error", sw.ElapsedMilliseconds, e.GetType().Name + ": " + FirstLine(e.Message));
        }
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    public sealed record DependencyStatus(string Name, string Status, long LatencyMs, string? Error);
}
