using Linkage.Functions.Deliveries;

namespace Linkage.Functions.Ttp;

public static class TtpZoneExtensions
{
    /// <summary>The trusted third party's functions and services (zone <c>ttp</c>).</summary>
    public static IHostApplicationBuilder AddTtpZone(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<File1IntakeOptions>().BindConfiguration(File1IntakeOptions.SectionName);
        builder.Services.AddSingleton<File1VersionStore>();
        builder.Services.AddSingleton<ParticipantRegistry>();
        builder.Services.AddSingleton<File1OutputWriter>();
        builder.Services.AddSingleton<CrossStudyLinker>();
        builder.Services.AddSingleton<StudyManifestPublisher>();
        builder.Services.AddSingleton<NationalOptOutSource>();
        builder.Services.AddSingleton<File1IntakeService>();
        builder.Services.AddSingleton<OptOutReapplier>();
        builder.Services.AddSingleton<IInboxHandler, File1InboxHandler>();
        builder.Services.AddSingleton<Workflows.Quarterly.QuarterActivities>();
        builder.Services.AddSingleton<Workflows.Quarterly.QuarterStarter>();
        return builder;
    }
}
