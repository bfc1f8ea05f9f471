namespace Linkage.Synth;

/// <summary>
/// The code set of valid-shaped 2011 LSOA codes: E01000001–E01033768 (England) and W01000001–W01001909 (Wales),
/// addressed by a dense index so File 2 rows and the IMD table draw from exactly the same set and always join.
/// </summary>
public static class LsoaCodes
{
    public const int EnglandCount = 33_768;
    public const int WalesCount = 1_909;
    public const int Count = EnglandCount + WalesCount;
    public const int CodeLength = 9;

    public static bool IsEngland(int index) => index < EnglandCount;

    /// <summary>Writes the 9-character code for <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public static void Format(int index, Span<char> code)
    {
        if ((uint)index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), "LSOA index outside the code set.");
        }

        int number = IsEngland(index) ? index + 1 : index - EnglandCount + 1;
        code[0] = IsEngland(index) ? 'E' : 'W';
        code[1] = '0';
        code[2] = '1';
        for (int i = 8; i >= 3; i--)
        {
            code[i] = (char)('0' + (number % 10));
            number /= 10;
        }
    }

    public static string CodeAt(int index)
    {
        Span<char> code = stackalloc char[CodeLength];
        Format(index, code);
        return new string(code);
    }

    /// <summary>True when <paramref name="code"/> is in the code set.</summary>
    public static bool IsValid(ReadOnlySpan<char> code)
    {
        if (code.Length != CodeLength || code[1] != '0' || code[2] != '1' || !int.TryParse(code[3..], out int n) || n < 1)
        {
            return false;
        }

        return code[0] switch
        {
            'E' => n <= EnglandCount,
            'W' => n <= WalesCount,
            _ => false,
        };
    }
}
