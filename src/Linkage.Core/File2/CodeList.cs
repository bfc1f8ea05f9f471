using System.Runtime.Intrinsics;

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
    private readonly ulong[] _signatures;

    // Up to four signatures side by side (padding never matches), so the lookup compares them all at once and does
    // not branch on which code a row holds: codes arrive in random order, and a scan's exit point was mispredicted.
    private readonly Vector256<ulong> _vector;
    private readonly bool _useVector;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly byte[][] _csvBytes;

    public CodeList(IEnumerable<string> codes)
    {
        string[] all = [.. codes];
        _codes = [.. all.Select(c => c.ToCharArray())];
        _signatures = [.. all.Select(c => Signature(c))];
        if (all.Length <= 4 && Vector256.IsHardwareAccelerated)
        {
            Span<ulong> lanes = [ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue];
            _signatures.CopyTo(lanes);
            _vector = Vector256.Create<ulong>(lanes);
            _useVector = true;
        }
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

        // Signatures first (one compare each), characters only for a signature that matches.
        ulong signature = Signature(value);
        if (_useVector)
        {
            uint matches = Vector256.Equals(_vector, Vector256.Create(signature)).ExtractMostSignificantBits();
            while (matches != 0)
            {
                int i = System.Numerics.BitOperations.TrailingZeroCount(matches);
                if (value.SequenceEqual(_codes[i]))
                {
                    return i;
                }

                matches &= matches - 1;
            }

            return -1;
        }

        ulong[] signatures = _signatures;
        for (int i = 0; i < signatures.Length; i++)
        {
            if (signatures[i] == signature && value.SequenceEqual(_codes[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The length and the first and last three characters' low bytes, packed: codes of a short list that share a prefix
    /// ("HES APC", "HES A&amp;E", "HES OP") still differ here. Equal signatures do not mean equal codes; the caller compares.
    /// </summary>
    private static ulong Signature(ReadOnlySpan<char> value)
    {
        int n = value.Length;
        if (n == 0)
        {
            return 0;
        }

        ulong head = ((ulong)(byte)value[0] << 8) | (byte)value[Math.Min(1, n - 1)] | ((ulong)(byte)value[Math.Min(2, n - 1)] << 16);
        ulong tail = ((ulong)(byte)value[n - 1] << 24) | ((ulong)(byte)value[Math.Max(0, n - 2)] << 32) | ((ulong)(byte)value[Math.Max(0, n - 3)] << 40);
        return head | tail | ((ulong)(byte)n << 48); // bits 56–63 stay clear, so ulong.MaxValue is never a signature
    }

    /// <summary>The code as one CSV field, UTF-8 (what <see cref="CsvField.Write"/> writes for it).</summary>
    public ReadOnlySpan<byte> CsvBytes(int index) => _csvBytes[index];
}
