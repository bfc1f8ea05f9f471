namespace Linkage.File1;

/// <summary>
/// Streaming reader of a File 1: reads the header, then yields one <see cref="File1Row"/> per data line
/// (blank lines are skipped) in bounded memory. The checker is built on it; intake uses it to read a file
/// the checker accepted. The row object is reused: copy what you keep.
/// </summary>
public sealed class File1Reader : IDisposable
{
    private readonly File1CsvParser _parser;
    private File1Header? _header;
    private File1Row? _row;
    private bool _firstLineIsData;
    private bool _finished;

    public File1Reader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _parser = new File1CsvParser(stream);
    }

    /// <summary>How the first line was understood; valid after the first read.</summary>
    public File1HeaderKind HeaderKind => _header?.Kind ?? File1HeaderKind.None;

    /// <summary>True when the stream began with a UTF-8 byte order mark (it is skipped).</summary>
    public bool HasByteOrderMark => _parser.HasByteOrderMark;

    /// <summary>True when the stream held no bytes (after any byte order mark).</summary>
    public bool IsEmpty => _parser.IsEmpty;

    /// <summary>The header's structural problems (valid after the first read).</summary>
    internal File1Header? Header => _header;

    /// <summary>Problems of the header line itself (bad UTF-8, quotes), when there is one.</summary>
    internal File1RowProblems HeaderLineProblems { get; private set; }

    /// <summary>Number of blank lines skipped so far, with the first few line numbers.</summary>
    internal List<long> BlankLines { get; } = [];

    internal int BlankLineCount { get; private set; }

    /// <summary>The row read by the last successful call; reused between calls.</summary>
    public File1Row Current => _row ?? throw new InvalidOperationException("No row has been read.");

    /// <summary>Advances to the next data line; false at the end of the file.</summary>
    public bool Read()
    {
        if (_header is null)
        {
            if (!ReadHeader(_parser.ReadRecord()))
            {
                return false;
            }
        }

        if (_firstLineIsData)
        {
            _firstLineIsData = false;
            return Accept();
        }

        while (!_finished && _parser.ReadRecord())
        {
            if (!SkipBlank())
            {
                return Accept();
            }
        }

        _finished = true;
        return false;
    }

    /// <summary>Advances to the next data line; false at the end of the file.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (_header is null)
        {
            if (!ReadHeader(await _parser.ReadRecordAsync(cancellationToken).ConfigureAwait(false)))
            {
                return false;
            }
        }

        if (_firstLineIsData)
        {
            _firstLineIsData = false;
            return Accept();
        }

        while (!_finished && await _parser.ReadRecordAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!SkipBlank())
            {
                return Accept();
            }
        }

        _finished = true;
        return false;
    }

    /// <summary>Every data row in turn (the same reused instance).</summary>
    public async IAsyncEnumerable<File1Row> ReadAllAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return Current;
        }
    }

    public void Dispose() => _parser.Dispose();

    private bool ReadHeader(bool hasLine)
    {
        if (!hasLine)
        {
            _header = File1Header.NoLines();
            _finished = true;
            return false;
        }

        _header = File1Header.Analyse(_parser);
        _row = new File1Row(_parser, _header.ColumnOf);
        if (_header.Kind == File1HeaderKind.Missing)
        {
            _firstLineIsData = !SkipBlank();
        }
        else
        {
            HeaderLineProblems = _parser.Problems;
        }

        return true;
    }

    private bool SkipBlank()
    {
        if (!_parser.IsBlankLine)
        {
            return false;
        }

        BlankLineCount++;
        if (BlankLines.Count < File1CheckOptions.DefaultMaxLinesPerFinding)
        {
            BlankLines.Add(_parser.LineNumber);
        }

        return true;
    }

    private bool Accept()
    {
        var problems = _parser.Problems;
        if (_parser.FieldCount != _header!.ExpectedFieldCount)
        {
            problems |= File1RowProblems.WrongFieldCount;
        }

        _row!.Problems = problems;
        return true;
    }
}
