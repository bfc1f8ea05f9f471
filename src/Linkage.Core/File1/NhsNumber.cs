namespace Linkage.File1;

/// <summary>NHS number rules: ten digits whose last is the Modulus 11 check digit of the first nine.</summary>
public static class NhsNumber
{
    /// <summary>True when <paramref name="value"/> is exactly ten ASCII digits with a valid Modulus 11 check digit.</summary>
    public static bool IsValid(ReadOnlySpan<char> value)
    {
        if (value.Length != 10)
        {
            return false;
        }

        int sum = 0;
        for (int i = 0; i < 10; i++)
        {
            int d = value[i] - '0';
            if ((uint)d > 9)
            {
                return false;
            }

            if (i < 9)
            {
                sum += d * (10 - i);
            }
        }

        int check = CheckDigit(sum);
        return check >= 0 && check == value[9] - '0';
    }

    /// <summary>True when every character is an ASCII digit (says nothing about length or check digit).</summary>
    public static bool IsAllDigits(ReadOnlySpan<char> value)
    {
        foreach (char c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The check digit for nine leading digits, or -1 when no valid number starts with them (remainder gives 10).
    /// </summary>
    public static int CheckDigitFor(ReadOnlySpan<char> firstNine)
    {
        if (firstNine.Length != 9 || !IsAllDigits(firstNine))
        {
            throw new ArgumentException("Nine ASCII digits are required.", nameof(firstNine));
        }

        int sum = 0;
        for (int i = 0; i < 9; i++)
        {
            sum += (firstNine[i] - '0') * (10 - i);
        }

        return CheckDigit(sum);
    }

    private static int CheckDigit(int weightedSum)
    {
        int check = 11 - (weightedSum % 11);
        return check switch
        {
            11 => 0,
            10 => -1,
            _ => check,
        };
    }
}
