using Linkage.File1;

namespace Linkage.Synth;

/// <summary>
/// Unique synthetic NHS numbers. All start with 9 (a range never issued to patients); digits 2–8 are a seeded
/// permutation of the person number, so two persons never share a number; digit 9 is chosen so that the
/// Modulus 11 check digit exists; digit 10 is the check digit.
/// </summary>
public static class SyntheticNhsNumbers
{
    /// <summary>Person numbers 0 … PersonCapacity-1 get distinct numbers.</summary>
    public const int PersonCapacity = 10_000_000;

    /// <summary>The top of the person-number range is kept for people who are in no study (opt-out list only).</summary>
    public const int OutsiderCapacity = 1_000_000;

    private const long Multiplier = 3_141_593; // coprime to 10^7, so the map below is a permutation

    public static string Valid(ulong seed, long personNumber)
    {
        Span<char> digits = stackalloc char[10];
        FillValid(seed, personNumber, digits);
        return new string(digits);
    }

    /// <summary>A ten-digit number that fails the Modulus 11 check (the check digit of the valid one, changed).</summary>
    public static string Invalid(ulong seed, long personNumber)
    {
        Span<char> digits = stackalloc char[10];
        FillValid(seed, personNumber, digits);
        int shift = 1 + (int)(SeededRandom.Derive(seed, 0x1D, (ulong)personNumber) % 9);
        digits[9] = (char)('0' + ((digits[9] - '0' + shift) % 10));
        return new string(digits);
    }

    private static void FillValid(ulong seed, long personNumber, Span<char> digits)
    {
        if (personNumber is < 0 or >= PersonCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(personNumber), "The person number is outside the synthetic range.");
        }

        long offset = (long)(SeededRandom.Derive(seed, 0x1C) % PersonCapacity);
        long permuted = ((personNumber * Multiplier) + offset) % PersonCapacity;
        digits[0] = '9';
        for (int i = 7; i >= 1; i--)
        {
            digits[i] = (char)('0' + (permuted % 10));
            permuted /= 10;
        }

        // For fixed digits 1–8 the ten choices of digit 9 give ten different remainders, so at most one fails.
        int start = (int)(SeededRandom.Derive(seed, 0x1E, (ulong)personNumber) % 10);
        for (int k = 0; k < 10; k++)
        {
            digits[8] = (char)('0' + ((start + k) % 10));
            int check = NhsNumber.CheckDigitFor(digits[..9]);
            if (check >= 0)
            {
                digits[9] = (char)('0' + check);
                return;
            }
        }

        throw new InvalidOperationException("No check digit found; unreachable for Modulus 11.");
    }
}
