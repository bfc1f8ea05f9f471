namespace Linkage.File2;

/// <summary>
/// A code column's valid values, resolved to a dense index on the reader thread so that the curator copies the code's
/// CSV bytes (computed once here) instead of re-encoding the value on every row.
/// </summary>
internal sealed class CodeList
{
    // Short lists (the usual case: a handful of codes) are scanned; long ones go through a dictionary.
    private const int ScanLimit = 16;

    private readonly char[][] _codes;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly byte[][] _csvBytes;

    public CodeList(IEnumerable<string> codes)
    {
        string[] all = [.. codes];
        _codes = [.. all.Select(c => c.ToCharArray())];
        var byCode = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < all.Length; i++)
        {
            byCode.TryAdd(all[i], i);
        }

        _lookup = byCode.GetAlternateLookup<ReadOnlySpan<char>>();
        _csvBytes = [.. all.Select(c =>
        {
            var bytes = new byte[(c.Length * 6) + 2];
            return bytes[..CsvField.Write(c, bytes)];
        })];
    }

    /// <summary>The index of <paramref name="value"/>, or -1 when it is not in the list.</summary>
    public int IndexOf(ReadOnlySpan<char> value)
    {
        if (_codes.Length > ScanLimit)
        {
            return _lookup.TryGetValue(value, out int index) ? index : -1;
        }

        for (int i = 0; i < _codes.Length; i++)
        {
            if (value.SequenceEqual(_codes[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The code as one CSV field, UTF-8 (what <see cref="CsvField.Write"/> writes for it).</summary>
    public ReadOnlySpan<byte> CsvBytes(int index) => _csvBytes[index];
}
