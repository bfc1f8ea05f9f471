using Linkage.File1;

namespace Linkage.File2;

/// <summary>Recognises values shaped like direct identifiers: NHS numbers (Mod 11 valid) and UK postcodes.</summary>
public static class IdentifierShape
{
    /// <summary>Ten digits passing the Modulus 11 check, also written 3-3-4 with spaces or dashes.</summary>
    public static bool LooksLikeNhsNumber(ReadOnlySpan<char> value)
    {
        if (value.Length == 10)
        {
            return NhsNumber.IsValid(value);
        }

        if (value.Length == 12 && value[3] == value[7] && value[3] is ' ' or '-')
        {
            Span<char> digits = stackalloc char[10];
            value[..3].CopyTo(digits);
            value.Slice(4, 3).CopyTo(digits[3..]);
            value.Slice(8, 4).CopyTo(digits[6..]);
            return NhsNumber.IsValid(digits);
        }

        return false;
    }

    /// <summary>A full UK postcode (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA), with or without the space, any case.</summary>
    public static bool LooksLikePostcode(ReadOnlySpan<char> value)
    {
        if (value.Length is < 5 or > 8)
        {
            return false;
        }

        // At most one space, and only between the outward and inward codes.
        int space = value.IndexOf(' ');
        if (space >= 0 && (space != value.Length - 4 || value.LastIndexOf(' ') != space))
        {
            return false;
        }

        Span<char> c = stackalloc char[8];
        int n = 0;
        foreach (char ch in value)
        {
            if (ch != ' ')
            {
                c[n++] = char.ToUpperInvariant(ch);
            }
        }

        if (n is < 5 or > 7)
        {
            return false;
        }

        // Inward code: digit, letter, letter.
        ReadOnlySpan<char> inward = c.Slice(n - 3, 3);
        if (!char.IsAsciiDigit(inward[0]) || !char.IsAsciiLetterUpper(inward[1]) || !char.IsAsciiLetterUpper(inward[2]))
        {
            return false;
        }

        ReadOnlySpan<char> outward = c[..(n - 3)];
        return outward.Length switch
        {
            2 => char.IsAsciiLetterUpper(outward[0]) && char.IsAsciiDigit(outward[1]),
            3 => char.IsAsciiLetterUpper(outward[0]) && (
                (char.IsAsciiDigit(outward[1]) && char.IsAsciiLetterOrDigit(outward[2]) && !char.IsAsciiLetterLower(outward[2])) ||
                (char.IsAsciiLetterUpper(outward[1]) && char.IsAsciiDigit(outward[2]))),
            4 => char.IsAsciiLetterUpper(outward[0]) && char.IsAsciiLetterUpper(outward[1]) && char.IsAsciiDigit(outward[2]) &&
                 (char.IsAsciiDigit(outward[3]) || char.IsAsciiLetterUpper(outward[3])),
            _ => false,
        };
    }
}
