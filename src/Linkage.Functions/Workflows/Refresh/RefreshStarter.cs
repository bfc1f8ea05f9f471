using Linkage.File2;
using Linkage.Functions.Processor;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Workflows.Refresh;

/// <summary>What a start came to: the instance, and whether this call started it (false: it exists, or ran and left its report).</summary>
public sealed record RefreshStart(string InstanceId, bool Started);

/// <summary>
/// Starts annual refreshes, from the daily timer (each annual dataset once its expected month opens) or an operator.
/// A refresh's instance id is its dataset and year, so a second start is a no-op, also after its history was purged
/// (its stored report says it ran).
/// </summary>
public sealed class RefreshStarter(DatasetSpecs specs, CurationCatalogue catalogue, WorkflowReportStore reports, IOptions<WorkflowOptions> options, TimeProvider time)
{
    public async Task<RefreshStart> StartAsync(IWorkflowClient workflows, string datasetId, int year, int? afterVersion, CancellationToken cancellationToken)
    {
        string instanceId = AnnualRefreshOrchestration.InstanceIdFor(datasetId, year);
        if (await reports.GetAsync(AnnualRefreshOrchestration.Name, instanceId, cancellationToken) is not null)
        {
            return new RefreshStart(instanceId, false);
        }

        if (await workflows.GetAsync(instanceId, cancellationToken) is { } existing)
        {
            if (!existing.HasEnded)
            {
                return new RefreshStart(instanceId, false);
            }

            // Ended without a report (failed or terminated): the year's refresh may run again. Its effects are keyed
            // (per-project instance ids, committed files found and left), so a second run doubles nothing.
            await workflows.PurgeAsync(instanceId, cancellationToken);
        }

        var request = await RequestAsync(datasetId, year, afterVersion, cancellationToken);
        var first = new RefreshWaitState(0, false, request.OpensAt + request.RemindEvery);
        bool started = await workflows.StartIfNewAsync(AnnualRefreshOrchestration.Name, instanceId, new RefreshRun(request, first), cancellationToken);
        return new RefreshStart(instanceId, started);
    }

    /// <summary>The datasets whose refresh of this year is open (annual cadence, expected month reached).</summary>
    public IEnumerable<(string DatasetId, int Year)> Due()
    {
        var now = time.GetUtcNow();
        return specs.All
            .Where(s => s.Refresh.Cadence == RefreshCadence.Annual && now >= s.Refresh.OpensAt(now.Year))
            .Select(s => (s.DatasetId, now.Year))
            .OrderBy(d => d.DatasetId, StringComparer.Ordinal);
    }

    private async Task<RefreshRequest> RequestAsync(string datasetId, int year, int? afterVersion, CancellationToken cancellationToken)
    {
        if (!specs.TryGet(datasetId, out var spec))
        {
            throw new ArgumentException($"No dataset spec has id '{datasetId}'.", nameof(datasetId));
        }

        var now = time.GetUtcNow().UtcDateTime;
        var schedule = spec.Refresh;
        // A dataset without a schedule refreshes when an operator asks: open now, late after the usual period.
        var opensAt = schedule.Cadence == RefreshCadence.Annual ? schedule.OpensAt(year).UtcDateTime : now;
        var lateAt = schedule.Cadence == RefreshCadence.Annual ? schedule.LateAt(year).UtcDateTime : now.AddDays(schedule.LateAfterDays);
        int after = afterVersion ?? await DefaultAfterVersionAsync(datasetId, year, cancellationToken);
        var o = options.Value.Refresh;
        return new RefreshRequest(datasetId, year, after, opensAt, lateAt, o.RemindEvery, o.RecheckEvery, o.ReviewRecheckEvery, o.ProjectAttempts, o.ProjectRetryDelay);
    }

    /// <summary>
    /// The version a delivery must be newer than: the one an earlier refresh of the dataset handled, or (for its first
    /// refresh) the newest version curated before the cycle's year began.
    /// </summary>
    private async Task<int> DefaultAfterVersionAsync(string datasetId, int year, CancellationToken cancellationToken)
    {
        var earlier = (await reports.ListAsync(AnnualRefreshOrchestration.Name, cancellationToken))
            .Select(r => r.Report)
            .Where(r => r.GetProperty(nameof(RefreshReport.DatasetId)).GetString() == datasetId && r.GetProperty(nameof(RefreshReport.Year)).GetInt32() < year)
            .Select(r => r.GetProperty(nameof(RefreshReport.Version)) is { ValueKind: System.Text.Json.JsonValueKind.Number } v ? v.GetInt32() : 0)
            .DefaultIfEmpty(0)
            .Max();
        if (earlier > 0)
        {
            return earlier;
        }

        var yearStart = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return (await catalogue.VersionsAsync(datasetId, cancellationToken)).Where(v => v.CuratedAt < yearStart).Select(v => v.Version).DefaultIfEmpty(0).Max();
    }
}
