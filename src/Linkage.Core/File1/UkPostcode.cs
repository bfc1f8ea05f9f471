namespace Linkage.File1;

/// <summary>The shape of a UK postcode as File 1 requires it: capitals, one space, six forms.</summary>
public static class UkPostcode
{
    /// <summary>True for A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA and AA9A 9AA (letters in capitals).</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> value)
    {
        int space = value.IndexOf(' ');
        if (space < 2 || space > 4 || value.Length != space + 4)
        {
            return false;
        }

        var outward = value[..space];
        var inward = value[(space + 1)..];
        if (!IsDigit(inward[0]) || !IsLetter(inward[1]) || !IsLetter(inward[2]))
        {
            return false;
        }

        // Outward code: letter, optional letter, digit, optional letter or digit.
        int i = 0;
        if (!IsLetter(outward[i++]))
        {
            return false;
        }

        if (IsLetter(outward[i]))
        {
            i++;
        }

        if (i >= outward.Length || !IsDigit(outward[i++]))
        {
            return false;
        }

        if (i < outward.Length && (IsDigit(outward[i]) || IsLetter(outward[i])))
        {
            i++;
        }

        return i == outward.Length;
    }

    private static bool IsLetter(char c) => c is >= 'A' and <= 'Z';

    private static bool IsDigit(char c) => c is >= '0' and <= '9';
}
