using Linkage.Functions.Catalogue;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Hosting;

namespace Linkage.Functions.Processor;

public static class ProcessorZoneExtensions
{
    /// <summary>The processor and curator functions (zone <c>processor</c>): encrypted data only.</summary>
    public static IHostApplicationBuilder AddProcessorZone(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<File2IntakeOptions>().BindConfiguration(File2IntakeOptions.SectionName);
        builder.Services.AddSingleton<DatasetSpecs>();
        builder.Services.AddOptions<TtpManifestOptions>().BindConfiguration(TtpManifestOptions.SectionName);
        builder.Services.AddSingleton<ManifestHighWaterMarks>();
        builder.Services.AddSingleton<PermissionSnapshotSource>();
        builder.Services.AddSingleton<CurationCatalogue>();
        builder.Services.AddOptions<ReviewOptions>().BindConfiguration(ReviewOptions.SectionName)
            .Validate(o => o.RequiredApprovals >= 1, "Review:RequiredApprovals must be at least 1.").ValidateOnStart();
        builder.Services.AddSingleton<DisclosureReview>();
        builder.Services.AddOptions<CatalogueOptions>().BindConfiguration(CatalogueOptions.SectionName)
            .Validate(o => !o.Malformed().Any(), "Catalogue:Datasets: a configured DOI is not shaped like one (10.<prefix>/<suffix>); fix or remove it.").ValidateOnStart();
        builder.Services.AddSingleton<File2IntakeService>();
        builder.Services.AddSingleton<IInboxHandler, File2InboxHandler>();
        builder.Services.AddHostedService<DatasetSpecsValidation>();
        return builder;
    }

    /// <summary>Loads the specs at start-up so that a bad spec stops the app with every problem listed.</summary>
    private sealed class DatasetSpecsValidation(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var zones = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ZoneOptions>>().Value.EnabledZones;
            if (zones.Contains(FunctionZone.Processor))
            {
                _ = services.GetRequiredService<DatasetSpecs>();
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
