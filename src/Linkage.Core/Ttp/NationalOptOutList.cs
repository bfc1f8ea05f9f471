using System.Text;
using Linkage.File1;

namespace Linkage.Ttp;

/// <summary>
/// The national data opt-out list: NHS numbers, one per line under the header <c>NHS_NUMBER</c>. Held as a sorted array
/// of 64-bit numbers (8 bytes a person: the full national list of ~3.5M fits in ~28 MB).
/// Fails closed: one line that is not exactly a valid NHS number rejects the whole list, since skipping it (say
/// <c>943 476 5919</c>) would send that person's identifiers to NHS England.
/// </summary>
public sealed class NationalOptOutList
{
    private readonly long[] _numbers;

    private NationalOptOutList(long[] numbers) => _numbers = numbers;

    public static NationalOptOutList Empty { get; } = new([]);

    public int Count => _numbers.Length;

    /// <summary>
    /// Which list this is, by content (SHA-256 of the sorted numbers, first 16 bytes as hex): a File 1 record names the
    /// list it was processed with, so the quarterly cycle knows whether a newer one must be re-applied. It is a hash of
    /// ~3.5M numbers from a space of 10^10, so it identifies the list, not a person (one number is never hashed alone).
    /// </summary>
    public string Fingerprint => _fingerprint ??= Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(_numbers.AsSpan())))[..32].ToLowerInvariant();

    private string? _fingerprint;

    public bool Contains(ReadOnlySpan<char> nhsNumber) =>
        nhsNumber.Length == 10 && NhsNumber.IsAllDigits(nhsNumber) && Array.BinarySearch(_numbers, long.Parse(nhsNumber, System.Globalization.CultureInfo.InvariantCulture)) >= 0;

    public static async Task<NationalOptOutList> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
        var numbers = new List<long>();
        long lineNumber = 0;
        bool first = true;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            var value = line.AsSpan().TrimEnd('\r');
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
                continue; // blank lines (a trailing newline) carry nothing
            }

            if (value.Length != 10 || !NhsNumber.IsValid(value))
            {
                // The message never quotes the value: it may be someone's NHS number.
                throw new NationalOptOutListInvalidException(lineNumber, value.Length != 10 || !NhsNumber.IsAllDigits(value)
                    ? $"line {lineNumber} is not 10 digits (found {value.Length} characters); write each NHS number as 10 digits with no spaces, dashes or quotes"
                    : $"line {lineNumber} has 10 digits but a wrong check digit; correct the number or remove the line");
            }

            numbers.Add(long.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        }

        long[] sorted = [.. numbers];
        Array.Sort(sorted);
        return new NationalOptOutList(sorted);
    }
}

/// <summary>The national opt-out list has a line that is not a valid NHS number: the whole list is refused.</summary>
public sealed class NationalOptOutListInvalidException(long line, string problem)
    : Exception($"The national data opt-out list is refused: {problem}. No File 1 of an s251 study is processed until a corrected list is uploaded.")
{
    public long Line { get; } = line;
}
