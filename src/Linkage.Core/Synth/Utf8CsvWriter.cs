using System.Buffers.Text;
using System.Text;

namespace Linkage.Synth;

/// <summary>
/// Fast forward-only CSV writer: UTF-8 straight into a pooled byte buffer, numbers and dates formatted in place, so a
/// row costs no string allocations. Lines end with LF. Fields are quoted only when they contain a comma, quote or newline.
/// </summary>
public sealed class Utf8CsvWriter : IDisposable
{
    private const int BufferSize = 1 << 16;
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _used;
    private bool _rowStarted;

    public Utf8CsvWriter(Stream stream, bool leaveOpen = false)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Data rows written so far (the header counts as none).</summary>
    public long Rows { get; private set; }

    public void Header(IReadOnlyList<string> names)
    {
        foreach (string name in names)
        {
            Field(name);
        }

        EndLine();
    }

    public void Field(ReadOnlySpan<char> value)
    {
        Separator();
        if (value.IndexOfAny(',', '"', '\n') >= 0 || value.IndexOf('\r') >= 0)
        {
            WriteQuoted(value);
            return;
        }

        Ensure(Encoding.UTF8.GetMaxByteCount(value.Length));
        _used += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_used));
    }

    /// <summary>A one-character field such as a File 1 flag.</summary>
    public void Field(char value)
    {
        Separator();
        if (value < 0x80 && value is not (',' or '"' or '\n' or '\r'))
        {
            Ensure(1);
            _buffer[_used++] = (byte)value;
            return;
        }

        Span<char> one = [value];
        _rowStarted = false;
        Field(one);
    }

    public void Field(long value)
    {
        Separator();
        Ensure(20);
        Utf8Formatter.TryFormat(value, _buffer.AsSpan(_used), out int written);
        _used += written;
    }

    /// <summary>ISO date yyyy-mm-dd, as health-data owners deliver dates.</summary>
    public void IsoDate(DateOnly date)
    {
        Separator();
        Ensure(10);
        Span<byte> b = _buffer.AsSpan(_used, 10);
        Digits(b[..4], date.Year);
        b[4] = (byte)'-';
        Digits(b.Slice(5, 2), date.Month);
        b[7] = (byte)'-';
        Digits(b.Slice(8, 2), date.Day);
        _used += 10;
    }

    public void EndRow()
    {
        EndLine();
        Rows++;
    }

    public void Flush()
    {
        _stream.Write(_buffer, 0, _used);
        _used = 0;
        _stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private void EndLine()
    {
        Ensure(1);
        _buffer[_used++] = (byte)'\n';
        _rowStarted = false;
    }

    private void Separator()
    {
        if (_rowStarted)
        {
            Ensure(1);
            _buffer[_used++] = (byte)',';
        }

        _rowStarted = true;
    }

    private void WriteQuoted(ReadOnlySpan<char> value)
    {
        string quoted = "\"" + value.ToString().Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        Ensure(Encoding.UTF8.GetMaxByteCount(quoted.Length));
        _used += Encoding.UTF8.GetBytes(quoted, _buffer.AsSpan(_used));
    }

    private void Ensure(int bytes)
    {
        if (_used + bytes <= _buffer.Length)
        {
            return;
        }

        _stream.Write(_buffer, 0, _used);
        _used = 0;
        if (bytes > _buffer.Length)
        {
            throw new InvalidOperationException("A single CSV field is larger than the write buffer.");
        }
    }

    private static void Digits(Span<byte> target, int value)
    {
        for (int i = target.Length - 1; i >= 0; i--)
        {
            target[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
