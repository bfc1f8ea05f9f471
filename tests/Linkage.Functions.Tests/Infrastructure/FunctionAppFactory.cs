using Linkage.Functions.Runtime;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>The real function app in-process, against the real local stack, with extra functions for a test.</summary>
internal sealed class FunctionAppFactory(LocalStackFixture stack, string mode, Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:ConnectionString", stack.Stack.StorageConnectionString);
        builder.UseSetting("Runtime:Mode", mode);
        builder.UseSetting("Runtime:HostId", LocalStackFixture.UniqueName("host"));
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(k, v);
        }

        foreach (var (k, v) in stack.AppSettings)
        {
            builder.UseSetting(k, v);
        }

        builder.ConfigureTestServices(s => services?.Invoke(s));
    }

    public static FunctionAppFactory WithFunctions(LocalStackFixture stack, string mode, params IFunction[] functions) =>
        new(stack, mode, s =>
        {
            foreach (var f in functions)
            {
                s.AddSingleton(f);
            }
        });
}
