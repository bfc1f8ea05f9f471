using System.Text;
using Linkage.File1;

namespace Linkage.Ttp;

/// <summary>
/// The national data opt-out list: NHS numbers, one per line under the header <c>NHS_NUMBER</c>. Held as a sorted array
/// of 64-bit numbers (8 bytes a person: the full national list of ~3.5M fits in ~28 MB).
/// Lines that are not a valid NHS number are counted, never silently ignored.
/// </summary>
public sealed class NationalOptOutList
{
    private readonly long[] _numbers;

    private NationalOptOutList(long[] numbers, long invalidLines)
    {
        _numbers = numbers;
        InvalidLines = invalidLines;
    }

    public static NationalOptOutList Empty { get; } = new([], 0);

    public int Count => _numbers.Length;

    /// <summary>Lines that held something other than a valid NHS number (reported by the caller).</summary>
    public long InvalidLines { get; }

    public bool Contains(ReadOnlySpan<char> nhsNumber) =>
        nhsNumber.Length == 10 && NhsNumber.IsAllDigits(nhsNumber) && Array.BinarySearch(_numbers, long.Parse(nhsNumber, System.Globalization.CultureInfo.InvariantCulture)) >= 0;

    public static async Task<NationalOptOutList> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
        var numbers = new List<long>();
        long invalid = 0;
        bool first = true;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            var value = line.AsSpan().Trim().Trim('"');
            if (first)
            {
                first = false;
                if (value.Equals("NHS_NUMBER", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
            }

            if (value.IsEmpty)
            {
                continue;
            }

            if (NhsNumber.IsValid(value))
            {
                numbers.Add(long.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                invalid++;
            }
        }

        long[] sorted = [.. numbers];
        Array.Sort(sorted);
        return new NationalOptOutList(sorted, invalid);
    }
}
