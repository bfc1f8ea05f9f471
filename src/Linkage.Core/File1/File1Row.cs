namespace Linkage.File1;

/// <summary>
/// One data line of a File 1, viewed through the header: fields are addressed by their
/// <see cref="File1Schema"/> index whatever column they sit in. The reader reuses one instance, so a row is
/// valid only until the next one is read; copy what you keep with <see cref="GetString"/>.
/// </summary>
public sealed class File1Row
{
    private readonly File1CsvParser _parser;
    private readonly int[] _columnOf;

    internal File1Row(File1CsvParser parser, int[] columnOf)
    {
        _parser = parser;
        _columnOf = columnOf;
    }

    /// <summary>Line number in the file, the header being line 1.</summary>
    public long LineNumber => _parser.LineNumber;

    /// <summary>Number of values found on the line.</summary>
    public int FieldCount => _parser.FieldCount;

    /// <summary>Structural problems of the line; a row with any of them should not be trusted.</summary>
    public File1RowProblems Problems { get; internal set; }

    public bool IsWellFormed => Problems == File1RowProblems.None;

    /// <summary>True when the file has a column for the field (false when the header lacks it).</summary>
    public bool HasField(int schemaIndex) => _columnOf[schemaIndex] >= 0;

    /// <summary>The field's value (empty when absent), capped at <see cref="File1CsvParser.FieldByteCap"/> bytes.</summary>
    public ReadOnlySpan<char> this[int schemaIndex] =>
        _columnOf[schemaIndex] is var column and >= 0 ? _parser.Field(column) : [];

    /// <summary>Length in characters, or a larger number when the value was too long to keep; for limit checks only.</summary>
    public long FieldLength(int schemaIndex) =>
        _columnOf[schemaIndex] is var column and >= 0 ? _parser.FieldLength(column) : 0;

    public string GetString(int schemaIndex) => new(this[schemaIndex]);

    /// <summary>Throws when the line is malformed: intake uses this on files the checker has already accepted.</summary>
    public void EnsureWellFormed()
    {
        if (!IsWellFormed)
        {
            throw new File1FormatException(LineNumber, Problems);
        }
    }
}

/// <summary>A File 1 line could not be read as a well-formed row. The message carries no field values.</summary>
public sealed class File1FormatException(long lineNumber, File1RowProblems problems)
    : Exception($"File 1 line {lineNumber} is malformed ({problems}); run the File 1 check for details.")
{
    public long LineNumber { get; } = lineNumber;

    public File1RowProblems Problems { get; } = problems;
}
