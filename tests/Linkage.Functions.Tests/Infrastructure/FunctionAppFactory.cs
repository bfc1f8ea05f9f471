using Linkage.Azure.Identity;
using Linkage.DevStack;
using Linkage.LocalHost;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// The function app in-process, run by the local host against a real local stack, with extra services for a test.
/// <c>"Local"</c>: triggers fire and the Durable Task worker runs (a task hub of the test's own); <c>"ServicesOnly"</c>:
/// HTTP and services only, for tests that call the intakes themselves.
/// </summary>
internal sealed class FunctionAppFactory(LocalStack stack, string mode, Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null)
    : WebApplicationFactory<LocalHostOptions>
{
    public FunctionAppFactory(LocalStackFixture fixture, string mode, Action<IServiceCollection>? services = null)
        : this(fixture.Stack, mode, services)
    {
    }

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>The host environment; development tokens are accepted only in Development.</summary>
    public string EnvironmentName { get; init; } = "Development";

    public string TaskHub { get; } = "t" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>A bearer token this app accepts (development issuer, the stack's own key) for <paramref name="roles"/>.</summary>
    public string Token(string name, params string[] roles) =>
        DevelopmentTokens.GetOrCreate(DevTokenFolder(stack)).Issue(roles, name, TimeSpan.FromMinutes(10));

    public static string DevTokenFolder(LocalStack stack) => Path.Combine(stack.DataDirectory, "dev-token");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        builder.UseSetting("DataStorage:ConnectionString", stack.StorageConnectionString);
        builder.UseSetting("Cosmos:Endpoint", stack.CosmosEndpoint);
        builder.UseSetting("Cosmos:Key", stack.CosmosKey);
        builder.UseSetting("Runtime:Listeners", mode == "Local" ? "true" : "false");
        builder.UseSetting("Runtime:HostId", LocalStackFixture.UniqueName("host"));
        builder.UseSetting("Runtime:BlobPollInterval", "00:00:00.300");
        builder.UseSetting("Runtime:RetryDelay", "00:00:00.200");
        builder.UseSetting("DurableTaskHubName", TaskHub);
        builder.UseSetting("Deliveries:FirstRetryDelay", "00:00:01");
        builder.UseSetting("Deliveries:MaxRetryDelay", "00:00:02");
        builder.UseSetting("Keys:LocalFolder", Path.Combine(stack.DataDirectory, "local-keys")); // one key-encryption key per stack, like one vault per environment
        builder.UseSetting("Api:DevelopmentKeyFolder", DevTokenFolder(stack));
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(k, v);
        }

        builder.ConfigureLogging(l => l.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        builder.ConfigureTestServices(s => services?.Invoke(s));
    }
}
