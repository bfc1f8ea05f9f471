namespace Linkage.File1;

public enum File1Severity
{
    /// <summary>Rejects the file.</summary>
    Error,

    /// <summary>Reported; the file is still accepted.</summary>
    Warning,
}

/// <summary>
/// One kind of problem (a code on a field) with every line it occurs on: the first few line numbers and the
/// count of all. The message says what is wrong and how to fix it, and never quotes a value from the file.
/// </summary>
public sealed record File1Finding(
    string Code,
    File1Severity Severity,
    string? Field,
    IReadOnlyList<long> Lines,
    long Count,
    string Message);

/// <summary>The outcome of checking one File 1.</summary>
public sealed record File1CheckReport
{
    /// <summary>True when there is no error (warnings do not reject).</summary>
    public bool Accepted => ErrorCount == 0;

    public string? FileName { get; init; }

    /// <summary>Study code, version and date from a well-formed file name.</summary>
    public string? StudyCode { get; init; }

    public int? Version { get; init; }

    public DateOnly? FileDate { get; init; }

    /// <summary>Data rows (lines after the header, blank lines not counted).</summary>
    public long Rows { get; init; }

    /// <summary>Distinct STUDY_IDs.</summary>
    public long Participants { get; init; }

    public long CurrentRows { get; init; }

    public long HistoricalRows { get; init; }

    /// <summary>Occurrences of errors (not groups).</summary>
    public long ErrorCount { get; init; }

    public long WarningCount { get; init; }

    /// <summary>Findings grouped by (code, field): errors first, then by first line.</summary>
    public IReadOnlyList<File1Finding> Findings { get; init; } = [];
}
