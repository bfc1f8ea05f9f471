using Linkage.DevStack;
using Linkage.Functions.Runtime;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>The real function app in-process, against a real local stack, with extra services for a test.</summary>
internal sealed class FunctionAppFactory(LocalStack stack, string mode, Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    public FunctionAppFactory(LocalStackFixture fixture, string mode, Action<IServiceCollection>? services = null)
        : this(fixture.Stack, mode, services)
    {
    }

    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:ConnectionString", stack.StorageConnectionString);
        builder.UseSetting("Cosmos:Endpoint", stack.CosmosEndpoint);
        builder.UseSetting("Cosmos:Key", stack.CosmosKey);
        builder.UseSetting("Runtime:Mode", mode);
        builder.UseSetting("Runtime:HostId", LocalStackFixture.UniqueName("host"));
        builder.UseSetting("Runtime:BlobPollInterval", "00:00:00.300");
        builder.UseSetting("Runtime:RetryDelay", "00:00:00.200");
        builder.UseSetting("Keys:LocalFolder", Path.Combine(stack.DataDirectory, "local-keys")); // one key-encryption key per stack, like one vault per environment
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(k, v);
        }

        builder.ConfigureLogging(l => l.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        builder.ConfigureTestServices(s => services?.Invoke(s));
    }

    public static FunctionAppFactory WithFunctions(LocalStackFixture stack, string mode, params IFunction[] functions) =>
        new(stack.Stack, mode, s =>
        {
            foreach (var f in functions)
            {
                s.AddSingleton(f);
            }
        });
}
