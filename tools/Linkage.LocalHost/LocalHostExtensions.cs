using System.Reflection;
using Linkage.Functions.Hosting;
using Linkage.LocalHost.Durable;
using Linkage.LocalHost.Functions;
using Linkage.LocalHost.Triggers;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Linkage.LocalHost;

public static class LocalHostExtensions
{
    /// <summary>
    /// Runs the <c>[Function]</c>s of <paramref name="app"/> the way the Functions host would: those of the enabled zones
    /// and not switched off by an <c>AzureWebJobs.&lt;Function&gt;.Disabled</c> setting.
    /// </summary>
    public static WebApplicationBuilder AddLocalFunctionsHost(this WebApplicationBuilder builder, Assembly app)
    {
        builder.Services.AddOptions<LocalHostOptions>().BindConfiguration(LocalHostOptions.SectionName)
            .Validate(o => o.MaxAttempts >= 1, "Runtime:MaxAttempts must be at least 1.")
            .Validate(o => o.LeaseDuration >= TimeSpan.FromSeconds(15) && o.LeaseDuration <= TimeSpan.FromSeconds(60), "Runtime:LeaseDuration must be between 15 and 60 seconds (Blob storage lease limits).")
            .ValidateOnStart();
        builder.Services.AddMvcCore(); // runs the IActionResults the HTTP functions return, as the worker's ASP.NET Core integration does
        builder.Services.AddSingleton<StorageConnection>();
        builder.Services.AddSingleton<FunctionInvoker>();
        builder.Services.AddSingleton<IReadOnlyList<AppFunction>>(sp => EnabledFunctions(app, sp.GetRequiredService<IOptions<ZoneOptions>>().Value, sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<IEnumerable<AppFunction>>(sp => sp.GetRequiredService<IReadOnlyList<AppFunction>>());
        builder.Services.AddSingleton<IEnumerable<ITriggerTarget>>(sp =>
        {
            var invoker = sp.GetRequiredService<FunctionInvoker>();
            var configuration = sp.GetRequiredService<IConfiguration>();
            return sp.GetRequiredService<IReadOnlyList<AppFunction>>().Select(f => MethodTargets.For(f, invoker, configuration)).OfType<ITriggerTarget>().ToList();
        });
        builder.Services.AddSingleton<LocalDurableEngine>();
        builder.Services.AddSingleton<DurableTaskClient>(sp => sp.GetRequiredService<LocalDurableEngine>().Client);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalDurableEngine>());
        builder.Services.AddHostedService<LocalTriggerRuntime>();
        return builder;
    }

    public static IReadOnlyList<AppFunction> EnabledFunctions(Assembly app, ZoneOptions zones, IConfiguration configuration)
    {
        var enabled = zones.EnabledZones;
        return AppFunction.Discover(FunctionCatalog.Of(app))
            .Where(f => enabled.Contains(f.Entry.Zone))
            .Where(f => !configuration.GetValue(f.Entry.DisabledSetting, false) && !configuration.GetValue($"AzureWebJobs:{f.Name}:Disabled", false))
            .ToList();
    }
}
