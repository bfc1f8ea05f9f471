namespace Linkage.Functions.Workflows;

/// <summary>
/// The named points of the workflows' effects where the fault-injection suite stops a host (<see cref="Hosting.IStepFaults"/>):
/// each lies between two writes, so a kill there leaves the first done and the second not.
/// </summary>
public static class WorkflowSteps
{
    /// <summary>The quarter's NHS England delta blob is committed; its manifest (the delivery's commit point) is not written yet.</summary>
    public const string QuarterDeltaCommitted = "Quarter.DeltaCommitted";

    /// <summary>The quarter's manifest is written; the delivery activity has not returned.</summary>
    public const string QuarterManifestWritten = "Quarter.ManifestWritten";

    /// <summary>The quarter's report is stored; the saving activity has not returned.</summary>
    public const string QuarterReportSaved = "Quarter.ReportSaved";

    /// <summary>A project's file blob is committed; its Cosmos file record is not written yet.</summary>
    public const string ProjectFileCommitted = "Provisioning.ProjectFileCommitted";

    /// <summary>The refresh's report is stored; the saving activity has not returned.</summary>
    public const string RefreshReportSaved = "Refresh.ReportSaved";

    public static IReadOnlyList<string> All { get; } = [QuarterDeltaCommitted, QuarterManifestWritten, QuarterReportSaved, ProjectFileCommitted, RefreshReportSaved];
}
