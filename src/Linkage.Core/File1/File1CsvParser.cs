using System.Buffers;
using System.Text.Unicode;

namespace Linkage.File1;

/// <summary>
/// The one CSV parser of File 1 (RFC 4180 quoting, comma separated, UTF-8), shared by the checker and the
/// reader. It works on bytes so that invalid UTF-8 is reported with its line, and keeps at most
/// <see cref="FieldByteCap"/> bytes of a value and <see cref="MaxKeptFields"/> values of a line, so a
/// 10 MB line costs no more memory than a normal one. File 1 is line-oriented: a line break ends the
/// record even inside quotes (reported as an unbalanced quote), so one stray quote cannot swallow the
/// rest of the file. CRLF, LF and lone CR all end a line.
/// </summary>
internal sealed class File1CsvParser(Stream stream) : IDisposable
{
    /// <summary>Bytes kept per value: every File 1 limit is at most 255 characters, i.e. at most 1020 UTF-8 bytes.</summary>
    public const int FieldByteCap = 1024;

    /// <summary>Values kept per line; more are counted but not stored.</summary>
    public const int MaxKeptFields = 64;

    private const int BufferSize = 64 * 1024;

    private enum State
    {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }

    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _bufferPos;
    private int _bufferLen;
    private bool _endOfStream;
    private bool _started;
    private bool _skipLineFeed;
    private long _nextLine = 1;

    private readonly byte[] _bytes = new byte[FieldByteCap * MaxKeptFields];
    private readonly int[] _byteStart = new int[MaxKeptFields];
    private readonly int[] _byteLen = new int[MaxKeptFields];
    private readonly long[] _totalLen = new long[MaxKeptFields];
    private readonly bool[] _quoted = new bool[MaxKeptFields];
    private readonly char[] _chars = new char[FieldByteCap * MaxKeptFields];
    private readonly int[] _charStart = new int[MaxKeptFields];
    private readonly int[] _charLen = new int[MaxKeptFields];

    private State _state;
    private int _fieldCount;
    private int _bytesUsed;
    private long _currentFieldTotal;
    private bool _currentFieldQuoted;
    private bool _recordHasContent;
    private Utf8LineValidator _utf8;

    /// <summary>True when the stream began with a UTF-8 byte order mark (it is skipped).</summary>
    public bool HasByteOrderMark { get; private set; }

    /// <summary>True when the stream held no bytes at all (after any byte order mark).</summary>
    public bool IsEmpty { get; private set; }

    /// <summary>1-based line number of the current record.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Number of values on the current line (may exceed <see cref="MaxKeptFields"/>).</summary>
    public int FieldCount => _fieldCount;

    public File1RowProblems Problems { get; private set; }

    /// <summary>True when the line was empty (no characters at all).</summary>
    public bool IsBlankLine => _fieldCount == 1 && !_recordHasContent;

    /// <summary>The value at <paramref name="index"/>, decoded; truncated when longer than the cap.</summary>
    public ReadOnlySpan<char> Field(int index) =>
        index < Math.Min(_fieldCount, MaxKeptFields) ? _chars.AsSpan(_charStart[index], _charLen[index]) : [];

    /// <summary>
    /// Length of the value in characters when it was kept whole; otherwise its length in bytes, which is larger
    /// than any File 1 limit — use this only to compare against limits.
    /// </summary>
    public long FieldLength(int index)
    {
        if (index >= Math.Min(_fieldCount, MaxKeptFields))
        {
            return 0;
        }

        return _totalLen[index] > _byteLen[index] ? _totalLen[index] : _charLen[index];
    }

    public bool FieldWasQuoted(int index) => index < Math.Min(_fieldCount, MaxKeptFields) && _quoted[index];

    public bool ReadRecord()
    {
        if (!_started)
        {
            while (_bufferLen < 3 && !_endOfStream)
            {
                int read = stream.Read(_buffer, _bufferLen, BufferSize - _bufferLen);
                _bufferLen += read;
                _endOfStream = read == 0;
            }

            Start();
        }

        BeginRecord();
        while (true)
        {
            if (_bufferPos == _bufferLen && !_endOfStream)
            {
                _bufferLen = stream.Read(_buffer, 0, BufferSize);
                _bufferPos = 0;
                _endOfStream = _bufferLen == 0;
            }

            if (Step())
            {
                return true;
            }

            if (_endOfStream)
            {
                return FinishAtEndOfStream();
            }
        }
    }

    public async ValueTask<bool> ReadRecordAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            while (_bufferLen < 3 && !_endOfStream)
            {
                int read = await stream.ReadAsync(_buffer.AsMemory(_bufferLen, BufferSize - _bufferLen), cancellationToken)
                    .ConfigureAwait(false);
                _bufferLen += read;
                _endOfStream = read == 0;
            }

            Start();
        }

        BeginRecord();
        while (true)
        {
            if (_bufferPos == _bufferLen && !_endOfStream)
            {
                _bufferLen = await stream.ReadAsync(_buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                _bufferPos = 0;
                _endOfStream = _bufferLen == 0;
            }

            if (Step())
            {
                return true;
            }

            if (_endOfStream)
            {
                return FinishAtEndOfStream();
            }
        }
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

    /// <summary>Scans buffered bytes; true when a record was completed.</summary>
    private bool Step()
    {
        var span = _buffer.AsSpan(0, _bufferLen);
        int i = _bufferPos;
        if (_skipLineFeed && i < span.Length)
        {
            _skipLineFeed = false;
            if (span[i] == (byte)'\n')
            {
                i++;
            }
        }

        for (; i < span.Length; i++)
        {
            byte b = span[i];
            if (b >= 0x80)
            {
                if (!_utf8.AcceptNonAscii(b))
                {
                    Problems |= File1RowProblems.InvalidUtf8;
                }

                if (_state == State.FieldStart)
                {
                    _state = State.Unquoted;
                }
                else if (_state == State.QuoteInQuoted)
                {
                    Problems |= File1RowProblems.StrayQuote;
                    _state = State.Unquoted;
                }

                Append(b);
                continue;
            }

            if (!_utf8.AcceptAscii())
            {
                Problems |= File1RowProblems.InvalidUtf8;
            }

            switch (b)
            {
                case (byte)',':
                    if (_state == State.Quoted)
                    {
                        Append(b);
                    }
                    else
                    {
                        EndField();
                    }

                    continue;
                case (byte)'\n':
                case (byte)'\r':
                    if (_state == State.Quoted)
                    {
                        Problems |= File1RowProblems.UnbalancedQuote;
                    }

                    EndField();
                    _bufferPos = i + 1;
                    if (b == (byte)'\r')
                    {
                        if (_bufferPos < span.Length)
                        {
                            if (span[_bufferPos] == (byte)'\n')
                            {
                                _bufferPos++;
                            }
                        }
                        else
                        {
                            _skipLineFeed = true;
                        }
                    }

                    return CompleteRecord();
                case (byte)'"':
                    switch (_state)
                    {
                        case State.FieldStart:
                            _state = State.Quoted;
                            _currentFieldQuoted = true;
                            _recordHasContent = true;
                            break;
                        case State.Quoted:
                            _state = State.QuoteInQuoted;
                            break;
                        case State.QuoteInQuoted:
                            Append(b);
                            _state = State.Quoted;
                            break;
                        default:
                            Problems |= File1RowProblems.StrayQuote;
                            Append(b);
                            break;
                    }

                    continue;
                default:
                    if (_state == State.FieldStart)
                    {
                        _state = State.Unquoted;
                    }
                    else if (_state == State.QuoteInQuoted)
                    {
                        Problems |= File1RowProblems.StrayQuote;
                        _state = State.Unquoted;
                    }

                    Append(b);
                    continue;
            }
        }

        _bufferPos = span.Length;
        return false;
    }

    private void Start()
    {
        _started = true;
        if (_bufferLen >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
        {
            HasByteOrderMark = true;
            _bufferPos = 3;
        }

        IsEmpty = _bufferPos == _bufferLen && _endOfStream;
    }

    private void BeginRecord()
    {
        LineNumber = _nextLine;
        _fieldCount = 0;
        _bytesUsed = 0;
        _currentFieldTotal = 0;
        _currentFieldQuoted = false;
        _recordHasContent = false;
        Problems = File1RowProblems.None;
        _byteStart[0] = 0;
        _utf8.Reset();
        _state = State.FieldStart;
    }

    private void Append(byte b)
    {
        _recordHasContent = true;
        _currentFieldTotal++;
        if (_fieldCount < MaxKeptFields && _bytesUsed - StartOfCurrentField() < FieldByteCap)
        {
            _bytes[_bytesUsed++] = b;
        }
    }

    private int StartOfCurrentField() => _fieldCount < MaxKeptFields ? _byteStart[_fieldCount] : 0;

    private void EndField()
    {
        if (_fieldCount < MaxKeptFields)
        {
            int start = _byteStart[_fieldCount];
            _byteLen[_fieldCount] = _bytesUsed - start;
            _totalLen[_fieldCount] = _currentFieldTotal;
            _quoted[_fieldCount] = _currentFieldQuoted;
        }

        _fieldCount++;
        if (_fieldCount < MaxKeptFields)
        {
            _byteStart[_fieldCount] = _bytesUsed;
        }

        _currentFieldTotal = 0;
        _currentFieldQuoted = false;
        _state = State.FieldStart;
    }

    private bool CompleteRecord()
    {
        _nextLine = LineNumber + 1;
        Decode();
        return true;
    }

    private bool FinishAtEndOfStream()
    {
        _bufferPos = _bufferLen;
        if (_fieldCount == 0 && !_recordHasContent)
        {
            return false;
        }

        if (_state == State.Quoted)
        {
            Problems |= File1RowProblems.UnbalancedQuote;
        }

        if (!_utf8.AcceptAscii())
        {
            Problems |= File1RowProblems.InvalidUtf8;
        }

        EndField();
        return CompleteRecord();
    }

    private void Decode()
    {
        int kept = Math.Min(_fieldCount, MaxKeptFields);
        int charPos = 0;
        for (int f = 0; f < kept; f++)
        {
            var source = _bytes.AsSpan(_byteStart[f], _byteLen[f]);
            var target = _chars.AsSpan(charPos);
            Utf8.ToUtf16(source, target, out _, out int written, replaceInvalidSequences: true);
            _charStart[f] = charPos;
            _charLen[f] = written;
            charPos += written;
        }
    }
}
