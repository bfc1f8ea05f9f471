namespace Linkage.File1;

/// <summary>Structural problems the CSV reader found on one line (several may apply).</summary>
[Flags]
public enum File1RowProblems
{
    None = 0,

    /// <summary>The line holds bytes that are not valid UTF-8 (they are read as U+FFFD).</summary>
    InvalidUtf8 = 1,

    /// <summary>A quoted value was still open at the end of the line (File 1 values may not contain line breaks).</summary>
    UnbalancedQuote = 2,

    /// <summary>A quote inside an unquoted value, or text straight after a closing quote.</summary>
    StrayQuote = 4,

    /// <summary>The line does not have as many fields as the header (or 34 when there is no header).</summary>
    WrongFieldCount = 8,
}
