using System.Text.Json.Serialization;

namespace Linkage.Functions.Workflows.Refresh;

/// <summary>
/// What an annual refresh waits for and how (fixed when it starts, so every replay decides the same): the dataset and
/// cycle year, the version after which a delivery counts as new, when the wait is reported late, and its cadences.
/// Names and counts only: no identifier, no token.
/// </summary>
public sealed record RefreshRequest(
    string DatasetId,
    int Year,
    int AfterVersion,
    DateTime OpensAt,
    DateTime LateAt,
    TimeSpan RemindEvery,
    TimeSpan RecheckEvery,
    TimeSpan ReviewRecheckEvery,
    int ProjectAttempts,
    TimeSpan ProjectRetryDelay);

/// <summary>Where the wait for the new File 2 stands, carried from one episode to the next (continue-as-new).</summary>
public sealed record RefreshWaitState(int RemindersSent, bool Late, DateTime NextReminderAt);

/// <summary>The orchestration's input: the request and its wait so far.</summary>
public sealed record RefreshRun(RefreshRequest Request, RefreshWaitState Wait);

/// <summary>A committed version that counts as the refresh's new File 2.</summary>
public sealed record RefreshVersion(int Version, long Rows, DateTimeOffset? CuratedAt);

/// <summary>A reminder to the dataset's owner (an activity's input).</summary>
public sealed record RefreshReminder(string DatasetId, int Year, int Number, bool Late, DateTime LateAt);

/// <summary>A project the refresh considers: eligible ones are re-provisioned, the others reported with the reason.</summary>
public sealed record RefreshProject(string ProjectId, bool Eligible, string? Reason);

[JsonConverter(typeof(JsonStringEnumConverter<RefreshOutcome>))]
public enum RefreshOutcome
{
    /// <summary>The new version was released and every eligible project re-provisioned.</summary>
    Completed,

    /// <summary>Released, but some projects could not be re-provisioned (each named with why).</summary>
    CompletedWithFailures,

    /// <summary>Disclosure review rejected the new version: nothing was provisioned.</summary>
    ReviewRejected,
}

[JsonConverter(typeof(JsonStringEnumConverter<ProjectRefreshOutcome>))]
public enum ProjectRefreshOutcome
{
    /// <summary>A file of the new version was written.</summary>
    Refreshed,

    /// <summary>The project already held the version's file (a re-run, or provisioned meanwhile): nothing written.</summary>
    Unchanged,

    /// <summary>Provisioning ran but did not write the version (e.g. no released version it may take); the detail says why.</summary>
    NotProvisioned,

    /// <summary>Not attempted: the project has not been provisioned yet (its admin's first provisioning takes the version).</summary>
    Skipped,

    /// <summary>Every attempt failed; the error of the last is reported.</summary>
    Failed,
}

/// <summary>One project's part of a refresh.</summary>
public sealed record ProjectRefreshResult(string ProjectId, ProjectRefreshOutcome Outcome, int? Version, long Rows, int Attempts, string? Detail);

/// <summary>The refresh's report: stored (it outlives the workflow's history) and returned as its output.</summary>
public sealed record RefreshReport(
    string InstanceId,
    string DatasetId,
    int Year,
    RefreshOutcome Outcome,
    int? Version,
    long? VersionRows,
    bool Late,
    int RemindersSent,
    string? Reason,
    IReadOnlyList<ProjectRefreshResult> Projects,
    DateTime CompletedAt)
{
    public int ProjectsRefreshed => Projects.Count(p => p.Outcome is ProjectRefreshOutcome.Refreshed or ProjectRefreshOutcome.Unchanged);

    public int ProjectsFailed => Projects.Count(p => p.Outcome == ProjectRefreshOutcome.Failed);
}

/// <summary>The refresh's custom status: step and progress ("projects 3/7 refreshed"), names and counts only.</summary>
public sealed record RefreshProgress(string Step, string Progress, int? Version, bool Late, int RemindersSent);
