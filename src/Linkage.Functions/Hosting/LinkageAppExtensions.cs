using Linkage.Functions.Api;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Health;
using Linkage.Functions.Processor;
using Linkage.Functions.Provisioning;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Linkage.Functions.Hosting;

public static class LinkageAppExtensions
{
    /// <summary>
    /// Everything the app's functions need, registered the same way by both hosts: the Functions worker (Program.cs) and
    /// the local host (tools/Linkage.LocalHost).
    /// </summary>
    public static IHostApplicationBuilder AddLinkageApp(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        bool development = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<ZoneOptions>().BindConfiguration(ZoneOptions.SectionName)
            .PostConfigure(o =>
            {
                // Development keeps its convenience of one app running everything; a deployment must say which zones it runs.
                if (development && string.IsNullOrWhiteSpace(o.Zones))
                {
                    o.Zones = ZoneOptions.DevelopmentDefault;
                }
            })
            .Validate(o => !string.IsNullOrWhiteSpace(o.Zones),
                $"Runtime:Zones is not set. Outside Development the app does not start without it: set Runtime:Zones (app setting Runtime__Zones) " +
                "to the zones this app runs, e.g. 'ttp' for the trusted third party's app or 'processor,provisioning' for the TRE app.")
            .Validate(o => TryZones(o), "Runtime:Zones lists an unknown zone; use a comma-separated list of ttp, processor, provisioning.")
            .ValidateOnStart();
        builder.AddTelemetry();
        builder.AddStepFaults();
        builder.AddLinkageAzureClients();
        builder.AddLinkageCosmos();
        builder.AddLinkageKeys();
        builder.AddHealthChecks();
        builder.AddLinkageApi();
        builder.AddDeliveries();
        builder.AddTtpZone();
        builder.AddProcessorZone();
        builder.AddProvisioningZone();
        return builder;
    }

    /// <summary>Bearer-token validation, the API gate and the audit log (../shared/http-api.md).</summary>
    public static IHostApplicationBuilder AddLinkageApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiAuthOptions>().BindConfiguration(ApiAuthOptions.SectionName);
        builder.Services.AddSingleton<BearerTokenValidator>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<ApiGate>();
        return builder;
    }

    /// <summary>Deliveries: their records, workflow, retry policy and holding.</summary>
    public static IHostApplicationBuilder AddDeliveries(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DeliveryRetryPolicy>().BindConfiguration(DeliveryRetryPolicy.SectionName)
            .Validate(p => p.MaxAttempts >= 1 && p.MaxAttemptsUnexpected >= 1 && p.FirstRetryDelay > TimeSpan.Zero && p.MaxRetryDelay >= p.FirstRetryDelay,
                "Deliveries: MaxAttempts and MaxAttemptsUnexpected must be at least 1, and MaxRetryDelay at least FirstRetryDelay (> 0).")
            .ValidateOnStart();
        builder.Services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.SectionName)
            .Validate(o => o.RetainDays >= 0 && o.Refresh.ProjectAttempts >= 1 && o.Refresh.RemindEvery > TimeSpan.Zero && o.Refresh.RecheckEvery > TimeSpan.Zero && o.Refresh.ReviewRecheckEvery > TimeSpan.Zero && o.Refresh.ProjectRetryDelay >= TimeSpan.Zero,
                "Workflows: RetainDays must be 0 or more, Refresh:ProjectAttempts at least 1, and Refresh:RemindEvery, RecheckEvery and ReviewRecheckEvery more than zero.")
            .ValidateOnStart();
        builder.Services.AddSingleton<WorkflowReportStore>();
        builder.Services.AddSingleton<DeliveryStore>();
        builder.Services.AddSingleton<DeliveryStarter>();
        builder.Services.AddSingleton<DeliveryHolder>();
        builder.Services.AddSingleton<InboxHandlers>();
        return builder;
    }

    private static bool TryZones(ZoneOptions o)
    {
        try
        {
            _ = o.EnabledZones;
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
