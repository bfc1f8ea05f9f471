using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Linkage.Functions.Hosting;

public static class TelemetryExtensions
{
    public const string ActivitySourceName = "Linkage";

    /// <summary>
    /// Logs, traces and metrics through OpenTelemetry. The console exporter is used when <c>Telemetry:Console</c> is true;
    /// in Azure an OTLP/Azure Monitor exporter is added by configuration. Log messages never carry identifiers: code logs
    /// counts, blob names and ids of our own making only.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        bool console = builder.Configuration.GetValue("Telemetry:Console", false);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeScopes = true;
            if (console)
            {
                o.AddConsoleExporter();
            }
        });
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("linkage-functions"))
            .WithTracing(t =>
            {
                t.AddSource(ActivitySourceName);
                if (console)
                {
                    t.AddConsoleExporter();
                }
            })
            .WithMetrics(m =>
            {
                m.AddMeter(ActivitySourceName);
                if (console)
                {
                    m.AddConsoleExporter();
                }
            });
        return builder;
    }
}
