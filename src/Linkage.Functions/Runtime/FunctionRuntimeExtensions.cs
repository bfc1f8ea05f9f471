using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Linkage.Functions.Runtime;

public static class FunctionRuntimeExtensions
{
    /// <summary>Registers the trigger runtime (catalog, local listeners) and binds <see cref="FunctionRuntimeOptions"/>.</summary>
    public static IHostApplicationBuilder AddFunctionRuntime(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FunctionRuntimeOptions>()
            .BindConfiguration(FunctionRuntimeOptions.SectionName)
            .PostConfigure(o =>
            {
                if (string.IsNullOrEmpty(o.Mode))
                {
                    o.Mode = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT")) ? "Local" : "CustomHandler";
                }
            })
            .Validate(o => o.MaxAttempts >= 1, "Runtime:MaxAttempts must be at least 1.")
            .Validate(o => o.LeaseDuration >= TimeSpan.FromSeconds(15) && o.LeaseDuration <= TimeSpan.FromSeconds(60), "Runtime:LeaseDuration must be between 15 and 60 seconds (Blob storage lease limits).")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FunctionCatalog>();
        builder.Services.AddHostedService<LocalTriggerRuntime>();
        return builder;
    }

    /// <summary>Registers a function class; it runs only when its zone is enabled.</summary>
    public static IServiceCollection AddFunction<TFunction>(this IServiceCollection services)
        where TFunction : class, IFunction
    {
        services.AddSingleton<TFunction>();
        services.AddSingleton<IFunction>(sp => sp.GetRequiredService<TFunction>());
        return services;
    }
}
