using Sylvan.Data.Csv;

namespace Linkage.Keys;

/// <summary>Tuning for <see cref="CsvTokenRewriter"/>.</summary>
public sealed class CsvTokenRewriterOptions
{
    /// <summary>
    /// Rows per batch: one native AES call per rule per batch. Memory is bounded by this, not by file size. 4,096 rows
    /// (≈ 0.6 MB of text) keep a batch within a core's L2 through the flush's passes over it; 8,192 spilled to L3.
    /// </summary>
    public int BatchRows { get; init; } = 4096;

    public int ReaderBufferChars { get; init; } = 1 << 16;
}

/// <summary>
/// What a rewrite did: rows read, empty values passed through (over all rows read), and the key version of each
/// rewritten column. With a <see cref="TokenRowFilter"/>, <see cref="RowsLeftOut"/> of the rows read were not written.
/// </summary>
public sealed record CsvRewriteSummary(long Rows, long EmptyValues, IReadOnlyDictionary<string, string> KeyVersions)
{
    /// <summary>Rows the row filter left out (0 without a filter).</summary>
    public long RowsLeftOut { get; init; }

    /// <summary>Rows written (after the header).</summary>
    public long RowsWritten => Rows - RowsLeftOut;
}

/// <summary>
/// Keeps or leaves out whole rows of a <see cref="CsvTokenRewriter"/> by the token in one of its rule's columns, as it
/// was read (before the rule transforms it): e.g. provisioning keeps only rows whose TRE id is in a project's cohort.
/// </summary>
/// <remarks>
/// <see cref="Select"/> is called once a batch, on the flush thread, one batch at a time and in input order, so an
/// implementation may keep per-run state without locking. Every row must hold a token in the column: an empty value
/// stops the rewrite (a row without a person key cannot be judged).
/// </remarks>
public abstract class TokenRowFilter(string column)
{
    /// <summary>The input column whose tokens decide (it must also be a rule's column).</summary>
    public string Column { get; } = column;

    /// <summary>For each row of a batch, its token's 16 raw bytes (<paramref name="blocks"/>, n×16) → keep it or not.</summary>
    public abstract void Select(ReadOnlySpan<byte> blocks, Span<bool> keep);
}

/// <summary>
/// Writes chosen fields of a <see cref="CsvTokenRewriter"/>'s rows empty (e.g. provisioning's cell suppression), judged on
/// each row's values as read, and learns which of those rows were written (after any <see cref="TokenRowFilter"/>).
/// </summary>
/// <remarks>
/// <see cref="Judge"/> runs on the parsing thread, once a row, in input order; <see cref="Written"/> on the flush thread,
/// once a batch, in input order (never two at once). A rule's column can never be blanked: <see cref="Bind"/> names the
/// columns it may blank, and the rewrite refuses one a rule rewrites. An instance serves one rewrite at a time.
/// </remarks>
public abstract class CsvRowSuppressor
{
    /// <summary>How many tags <see cref="Judge"/> writes a row (handed back to <see cref="Written"/>).</summary>
    public abstract int TagsPerRow { get; }

    /// <summary>Called once with the input header (before any row): the ordinals it may blank. Throws to refuse the file.</summary>
    public abstract IReadOnlyList<int> Bind(IReadOnlyList<string> header);

    /// <summary>
    /// One data row: set <paramref name="blank"/>[ordinal] (all false on entry) for each field to write empty, fill the
    /// row's <paramref name="tags"/>; true when anything is blanked.
    /// </summary>
    public abstract bool Judge(CsvDataReader row, Span<bool> blank, Span<int> tags);

    /// <summary>One flushed batch: its rows' tags (<see cref="TagsPerRow"/> each, in row order) and whether each row was written.</summary>
    public abstract void Written(ReadOnlySpan<int> tags, ReadOnlySpan<bool> written);
}

/// <summary>A value in a rewritten column could not be processed. Names the data row and column, never the value.</summary>
public sealed class CsvTokenException(long dataRow, string column, string problem)
    : FormatException($"Data row {dataRow}, column '{column}': {problem}")
{
    public long DataRow { get; } = dataRow;

    public string Column { get; } = column;
}
