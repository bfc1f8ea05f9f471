namespace Linkage.Functions.Workflows;

/// <summary>Events by which intakes wake the workflows waiting for them. A wake is a hint: a workflow reads the state it waits for.</summary>
public static class WorkflowEvents
{
    /// <summary>A File 2 of the dataset was curated (to running annual refreshes of that dataset).</summary>
    public const string File2Curated = "File2Curated";

    /// <summary>A File 1 of the study was accepted (to the running quarterly cycle).</summary>
    public const string File1Accepted = "File1Accepted";
}

/// <summary>An event's payload: what finished, by name only (a dataset or study code), never an identifier.</summary>
public sealed record WorkflowWake(string Subject, string Outcome);
