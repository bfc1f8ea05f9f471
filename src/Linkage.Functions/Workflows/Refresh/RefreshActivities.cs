using System.Text;
using Azure.Storage.Blobs;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Provisioning;

namespace Linkage.Functions.Workflows.Refresh;

/// <summary>
/// The annual refresh's activities. Each is idempotent (activities run at least once): reads, a reminder written under
/// a deterministic name, a report upserted under the instance id.
/// </summary>
public sealed class RefreshActivities(
    CurationCatalogue catalogue,
    ProjectStore projects,
    WorkflowReportStore reports,
    BlobServiceClient blobs,
    IStepFaults faults,
    ILogger<RefreshActivities> logger)
{
    public const string FindNewVersion = "FindRefreshVersion";
    public const string RemindOwner = "RemindRefreshOwner";
    public const string ListProjects = "ListRefreshProjects";
    public const string SaveReport = "SaveRefreshReport";

    /// <summary>The highest committed version after the request's <see cref="RefreshRequest.AfterVersion"/>, or null while none has been curated.</summary>
    public async Task<RefreshVersion?> FindNewVersionAsync(RefreshRequest request, CancellationToken cancellationToken)
    {
        var newest = (await catalogue.VersionsAsync(request.DatasetId, cancellationToken))
            .Where(v => v.Version > request.AfterVersion)
            .MaxBy(v => v.Version);
        return newest is null ? null : new RefreshVersion(newest.Version, newest.ObservationCount, newest.CuratedAt);
    }

    /// <summary>A note in the data owner's area (<c>processor-provider-reports/&lt;dataset&gt;/reminders/</c>), one name per reminder so a re-run overwrites it.</summary>
    public async Task RemindOwnerAsync(RefreshReminder reminder, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(ProcessorStorage.ProviderReports);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        string name = ReminderName(reminder.DatasetId, reminder.Year, reminder.Number);
        string text = $"""
            Dataset {reminder.DatasetId}: the {reminder.Year} File 2 has not arrived{(reminder.Late ? $", and it was due by {reminder.LateAt:yyyy-MM-dd}" : "")}.
            Deliver it as {ProcessorStorage.File2Inbox}/{reminder.DatasetId}/<file>.csv. The annual refresh {AnnualRefreshOrchestration.InstanceIdFor(reminder.DatasetId, reminder.Year)} is waiting for it.
            Reminder {reminder.Number}.

            """;
        await container.GetBlobClient(name).UploadAsync(BinaryData.FromString(text), overwrite: true, cancellationToken);
        logger.Log(reminder.Late ? LogLevel.Warning : LogLevel.Information,
            "Refresh of {Dataset} {Year}: the new File 2 has not arrived{Late}; reminder {Number} written to {Container}/{Name}",
            reminder.DatasetId, reminder.Year, reminder.Late ? $" (late since {reminder.LateAt:yyyy-MM-dd})" : "", reminder.Number, ProcessorStorage.ProviderReports, name);
    }

    public static string ReminderName(string datasetId, int year, int number) => $"{datasetId}/reminders/refresh-{year:D4}-{number:D3}.txt";

    /// <summary>Active projects that receive the dataset; those never provisioned are listed as not eligible (their first provisioning takes the version).</summary>
    public async Task<List<RefreshProject>> ListProjectsAsync(string datasetId, CancellationToken cancellationToken) =>
        (await projects.ListAsync(cancellationToken))
            .Where(p => p.State == ProjectState.Active && p.Datasets.Contains(datasetId, StringComparer.Ordinal))
            .Select(p => p.CohortFrozenAt is null
                ? new RefreshProject(p.ProjectId, false, "not provisioned yet: its first provisioning takes the new version")
                : new RefreshProject(p.ProjectId, true, null))
            .ToList();

    public async Task SaveReportAsync(RefreshReport report, CancellationToken cancellationToken)
    {
        await reports.SaveAsync(AnnualRefreshOrchestration.Name, report.InstanceId, new DateTimeOffset(DateTime.SpecifyKind(report.CompletedAt, DateTimeKind.Utc)), report, cancellationToken);
        logger.LogInformation(
            "Refresh {Instance} ended {Outcome}: {Dataset} v{Version}, {Refreshed} projects refreshed, {Failed} failed{Late}",
            report.InstanceId, report.Outcome, report.DatasetId, report.Version, report.ProjectsRefreshed, report.ProjectsFailed, report.Late ? " (the File 2 was late)" : "");
        await faults.ReachedAsync(WorkflowSteps.RefreshReportSaved, cancellationToken);
    }
}
