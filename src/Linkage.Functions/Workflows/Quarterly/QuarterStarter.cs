using System.Text.Json;
using Linkage.Functions.Ttp;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Workflows.Quarterly;

/// <summary>
/// Starts quarterly cycles, from the timer (first day of each quarter) or an operator. The instance id is the quarter,
/// so a second start is a no-op, also after its history was purged (its stored report says it ran).
/// </summary>
public sealed class QuarterStarter(WorkflowReportStore reports, IOptions<WorkflowOptions> options, IOptions<File1IntakeOptions> file1, TimeProvider time)
{
    public async Task<(string InstanceId, bool Started)> StartAsync(IWorkflowClient workflows, int year, int quarter, CancellationToken cancellationToken)
    {
        string instanceId = QuarterlyOptOutOrchestration.InstanceIdFor(year, quarter);
        if (await reports.GetAsync(QuarterlyOptOutOrchestration.Name, instanceId, cancellationToken) is not null)
        {
            return (instanceId, false);
        }

        if (await workflows.GetAsync(instanceId, cancellationToken) is { } existing)
        {
            if (!existing.HasEnded)
            {
                return (instanceId, false);
            }

            // Ended without a report (failed or terminated): the quarter may run again; its delivery is written once
            // (the manifest), so a second run sends nothing twice.
            await workflows.PurgeAsync(instanceId, cancellationToken);
        }

        var o = options.Value.Quarterly;
        var opens = new DateTime(year, (quarter - 1) * 3 + 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var delivered = await DeliveredAsync(year, quarter, cancellationToken);
        var request = new QuarterRequest(year, quarter, opens, opens.AddDays(o.DeadlineDays), ActiveStudies(), o.RemindEvery, o.RecheckEvery, delivered.ToDictionary(d => d.Key, d => d.Value.Version))
        {
            DeliveredRevisions = delivered.ToDictionary(d => d.Key, d => d.Value.Revision),
        };
        bool started = await workflows.StartIfNewAsync(QuarterlyOptOutOrchestration.Name, instanceId, new QuarterRun(request, new QuarterWaitState(0, opens + o.RemindEvery)), cancellationToken);
        return (instanceId, started);
    }

    /// <summary>Per study, the newest File 1 version (and its revision) an earlier quarter's delivery named (from the stored reports).</summary>
    private async Task<Dictionary<string, (int Version, int Revision)>> DeliveredAsync(int year, int quarter, CancellationToken cancellationToken)
    {
        string label = QuarterRequest.LabelOf(year, quarter);
        var delivered = new Dictionary<string, (int Version, int Revision)>(StringComparer.Ordinal);
        foreach (var doc in await reports.ListAsync(QuarterlyOptOutOrchestration.Name, cancellationToken))
        {
            var report = doc.Report.Deserialize<QuarterReport>();
            if (report is null || string.CompareOrdinal(report.Quarter, label) >= 0)
            {
                continue;
            }

            foreach (var study in report.Studies.Where(s => s.State == StudyQuarterState.Accepted && s.Version is not null && !report.HeldStudies.Contains(s.Study)))
            {
                var sent = (study.Version!.Value, report.Delivery?.Revisions?.GetValueOrDefault(study.Study) ?? 0); // reports made before revisions carry none
                if (sent.CompareTo(delivered.GetValueOrDefault(study.Study)) > 0)
                {
                    delivered[study.Study] = sent;
                }
            }
        }

        return delivered;
    }

    /// <summary>The quarter the clock is in.</summary>
    public (int Year, int Quarter) Current()
    {
        var now = time.GetUtcNow();
        return (now.Year, (now.Month - 1) / 3 + 1);
    }

    public IReadOnlyList<string> ActiveStudies()
    {
        string list = options.Value.Quarterly.ActiveStudies;
        var studies = list.Length > 0 ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : file1.Value.KnownStudyCodes;
        return studies.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }
}
