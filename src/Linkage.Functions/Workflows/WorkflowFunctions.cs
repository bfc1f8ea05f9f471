using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Workflows;

/// <summary>Settings of workflow housekeeping (section <c>Workflows</c>).</summary>
public sealed class WorkflowOptions
{
    public const string SectionName = "Workflows";

    /// <summary>Days the history of an ended workflow is kept before the nightly purge deletes it.</summary>
    public int RetainDays { get; set; } = 90;

    /// <summary>The annual refresh's cadences (section <c>Workflows:Refresh</c>).</summary>
    public RefreshOptions Refresh { get; set; } = new();

    /// <summary>The quarterly opt-out cycle's studies and cadences (section <c>Workflows:Quarterly</c>).</summary>
    public QuarterlyOptions Quarterly { get; set; } = new();
}

/// <summary>How the quarterly cycle waits for File 1s (section <c>Workflows:Quarterly</c>).</summary>
public sealed class QuarterlyOptions
{
    /// <summary>Study codes expected to send a File 1 every quarter, comma-separated; empty means every known study (File1:KnownStudies).</summary>
    public string ActiveStudies { get; set; } = "";

    /// <summary>Days after the quarter opens when the wait for File 1s ends; studies without one keep their previous permissions.</summary>
    public double DeadlineDays { get; set; } = 30;

    /// <summary>Between reminders to studies whose File 1 has not been accepted.</summary>
    public TimeSpan RemindEvery { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the wait re-reads the File 1 records in case a wake event was missed.</summary>
    public TimeSpan RecheckEvery { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>How an annual refresh waits and retries (section <c>Workflows:Refresh</c>); its deadline comes from the dataset spec.</summary>
public sealed class RefreshOptions
{
    /// <summary>Between reminders to the data owner while the new File 2 has not arrived.</summary>
    public TimeSpan RemindEvery { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the wait re-reads the catalogue in case a wake event was missed.</summary>
    public TimeSpan RecheckEvery { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often a wait for the disclosure review re-reads the catalogue.</summary>
    public TimeSpan ReviewRecheckEvery { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Attempts at each project's re-provisioning before it is reported failed.</summary>
    public int ProjectAttempts { get; set; } = 3;

    /// <summary>Wait before a project's second attempt (doubled for the third, and so on).</summary>
    public TimeSpan ProjectRetryDelay { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>The nightly purge of old workflow history (reports stay: <see cref="WorkflowReportStore"/>).</summary>
[Zone(FunctionZone.Platform)]
public sealed class WorkflowFunctions(IOptions<WorkflowOptions> options, TimeProvider time, ILogger<WorkflowFunctions> logger)
{
    /// <summary>On the schedule in setting <c>WorkflowPurgeSchedule</c> (nightly, <c>0 30 3 * * *</c>): delete the history of workflows that ended more than <see cref="WorkflowOptions.RetainDays"/> ago.</summary>
    [Function("PurgeWorkflowHistory")]
    public async Task Purge([TimerTrigger("%WorkflowPurgeSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().AddDays(-options.Value.RetainDays);
        int purged = await new DurableWorkflowClient(durable).PurgeEndedAsync(before, cancellationToken);
        logger.LogInformation("Purged the history of {Count} workflows that ended before {Before:O}{PastDue}", purged, before, timer.IsPastDue ? " (past due)" : "");
    }
}

/// <summary>The JSON of a workflow's status: custom status and output are passed through as JSON.</summary>
public sealed record WorkflowStatusView(
    string InstanceId,
    string Name,
    WorkflowRuntimeStatus RuntimeStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    System.Text.Json.JsonElement? CustomStatus,
    System.Text.Json.JsonElement? Output,
    string? Failure)
{
    /// <summary>True when the history was purged and this is the stored report.</summary>
    public bool HistoryPurged { get; init; }

    public static WorkflowStatusView From(WorkflowStatus s) =>
        new(s.InstanceId, s.Name, s.RuntimeStatus, s.CreatedAt, s.LastUpdatedAt, Parse(s.CustomStatusJson), Parse(s.OutputJson), s.Failure);

    private static System.Text.Json.JsonElement? Parse(string? json) =>
        string.IsNullOrEmpty(json) ? null : System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();
}
