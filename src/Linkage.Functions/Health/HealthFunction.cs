using System.Diagnostics;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Linkage.Functions.Api;
using Linkage.Functions.Deliveries;
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

/// <summary>
/// <c>GET /api/health</c> (anonymous): each dependency ok or failing with a stable code, the zones and functions this app
/// runs; 503 when any dependency is failing. The body never carries exception text (anyone can call it, and a message
/// may name hosts, keys or connection details); the exception is logged server-side.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class HealthFunction(IEnumerable<IDependencyCheck> checks, IOptions<ZoneOptions> zones, ILogger<HealthFunction> logger)
{
    /// <summary>A dependency's state: it answered.</summary>
    public const string Ok = "ok";

    /// <summary>A dependency's state: it did not answer in time or failed (the code says how).</summary>
    public const string Failing = "failing";

    /// <summary>How long one dependency may take to answer before it counts as failing with <see cref="Codes.Timeout"/>.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    [Function("Health")]
    [ApiDoc("Health of the app and its dependencies", role: null, Description = "Each dependency's state (ok or failing), a stable code (ok, timeout, unavailable, access-denied, error) and latency, and the zones and functions this app runs; the same body with 503 when a dependency is failing. Never exception text.")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(checks.Select(c => RunAsync(c, cancellationToken)));
        bool healthy = results.All(r => r.Status == Ok);
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

    /// <summary>The stable codes of a dependency's state (documented in the README; monitors may alert on them).</summary>
    public static class Codes
    {
        public const string Ok = "ok";

        /// <summary>No answer within <see cref="CheckTimeout"/>.</summary>
        public const string Timeout = "timeout";

        /// <summary>Unreachable, throttled or failing on the service's side: likely to pass.</summary>
        public const string Unavailable = "unavailable";

        /// <summary>Access refused (401/403): the app's identity or configuration needs an operator.</summary>
        public const string AccessDenied = "access-denied";

        /// <summary>Anything else: see the app's logs.</summary>
        public const string Error = "error";
    }

    private async Task<DependencyStatus> RunAsync(IDependencyCheck check, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await check.CheckAsync(timeout.Token).WaitAsync(timeout.Token);
            return new DependencyStatus(check.Name, Ok, Codes.Ok, sw.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            string code = timeout.IsCancellationRequested && e is OperationCanceledException ? Codes.Timeout : CodeOf(e);
            logger.LogWarning(e, "Health check of {Dependency} failed: {Code}", check.Name, code);
            return new DependencyStatus(check.Name, Failing, code, sw.ElapsedMilliseconds);
        }
    }

    private static string CodeOf(Exception e) => FailureClassifier.Classify(e) switch
    {
        FailureClass.Transient or FailureClass.Waiting => Codes.Unavailable,
        FailureClass.Configuration => Codes.AccessDenied,
        _ => Codes.Error,
    };

    /// <summary>One dependency: <c>ok</c> or <c>failing</c>, a stable code, and how long the check took.</summary>
    public sealed record DependencyStatus(string Name, string Status, string Code, long LatencyMs);
}
