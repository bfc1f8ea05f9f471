namespace Linkage.File2;

/// <summary>
/// A fixed-width date pattern made of yyyy, MM, dd, HH, mm, ss and literal separators, parsed without allocation
/// (DateTime.TryParseExact is several times slower on the hot path).
/// </summary>
public sealed class DateFormat
{
    private readonly int _year = -1;
    private readonly int _month = -1;
    private readonly int _day = -1;
    private readonly int _hour = -1;
    private readonly int _minute = -1;
    private readonly int _second = -1;
    private readonly char[] _literals;
    private readonly int[] _literalAt;
    private readonly bool _dateOnly;

    private DateFormat(string pattern)
    {
        Pattern = pattern;
        _literals = new char[pattern.Length];
        for (int i = 0; i < pattern.Length;)
        {
            ReadOnlySpan<char> rest = pattern.AsSpan(i);
            if (rest.StartsWith("yyyy", StringComparison.Ordinal))
            {
                _year = Mark(ref i, 4, _year, "yyyy");
            }
            else if (rest.StartsWith("MM", StringComparison.Ordinal))
            {
                _month = Mark(ref i, 2, _month, "MM");
            }
            else if (rest.StartsWith("dd", StringComparison.Ordinal))
            {
                _day = Mark(ref i, 2, _day, "dd");
            }
            else if (rest.StartsWith("HH", StringComparison.Ordinal))
            {
                _hour = Mark(ref i, 2, _hour, "HH");
            }
            else if (rest.StartsWith("mm", StringComparison.Ordinal))
            {
                _minute = Mark(ref i, 2, _minute, "mm");
            }
            else if (rest.StartsWith("ss", StringComparison.Ordinal))
            {
                _second = Mark(ref i, 2, _second, "ss");
            }
            else if (char.IsAsciiLetterOrDigit(pattern[i]))
            {
                throw new FormatException($"'{pattern[i]}' at position {i + 1}");
            }
            else
            {
                _literals[i] = pattern[i];
                i++;
            }
        }

        if (_year < 0 || _month < 0 || _day < 0)
        {
            throw new FormatException("a date format needs yyyy, MM and dd");
        }

        _literalAt = [.. Enumerable.Range(0, pattern.Length).Where(i => _literals[i] != '\0')];
        _dateOnly = _hour < 0 && _minute < 0 && _second < 0;

        // A field given twice would leave one copy unchecked (and written to the output unescaped).
        int Mark(ref int at, int width, int already, string token)
        {
            if (already >= 0)
            {
                throw new FormatException($"'{token}' appears twice");
            }

            int start = at;
            at += width;
            return start;
        }
    }

    public string Pattern { get; }

    /// <summary>Where yyyy starts in a value: a checked value's year is these four characters.</summary>
    public int YearOffset => _year;

    /// <summary>True when the pattern holds yyyy-MM, so a checked value's month is the seven characters at <see cref="YearOffset"/>.</summary>
    public bool HasYearDashMonth => _month == _year + 5 && Pattern[_year + 4] == '-';

    /// <summary>Parses a format string; a <see cref="FormatException"/> says what is wrong with it.</summary>
    public static DateFormat Create(string pattern) => new(pattern);

    /// <summary>Parses a value of exactly this format into year, month and day (time fields are range-checked only).</summary>
    public bool TryParse(ReadOnlySpan<char> value, out int year, out int month, out int day)
    {
        year = month = day = 0;
        if (value.Length != _literals.Length)
        {
            return false;
        }

        foreach (int i in _literalAt)
        {
            if (value[i] != _literals[i])
            {
                return false;
            }
        }

        // Each (c - '0') must be 0–9 as an unsigned number.
        uint y0 = Digit(value, _year), y1 = Digit(value, _year + 1), y2 = Digit(value, _year + 2), y3 = Digit(value, _year + 3);
        uint m0 = Digit(value, _month), m1 = Digit(value, _month + 1), d0 = Digit(value, _day), d1 = Digit(value, _day + 1);
        if (Math.Max(Math.Max(Math.Max(y0, y1), Math.Max(y2, y3)), Math.Max(Math.Max(m0, m1), Math.Max(d0, d1))) > 9)
        {
            return false;
        }

        year = (int)((y0 * 1000) + (y1 * 100) + (y2 * 10) + y3);
        month = (int)((m0 * 10) + m1);
        day = (int)((d0 * 10) + d1);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DaysInMonth(year, month))
        {
            return false;
        }

        return _dateOnly
            || ((_hour < 0 || (Digits(value, _hour, 2, out int h) && h < 24))
            && (_minute < 0 || (Digits(value, _minute, 2, out int m) && m < 60))
            && (_second < 0 || (Digits(value, _second, 2, out int s) && s < 60)));
    }

    private static uint Digit(ReadOnlySpan<char> value, int at) => (uint)(value[at] - '0');

    // A table, not a switch: months arrive in random order, and branching on them was mispredicted on every other row.
    private static int DaysInMonth(int year, int month) =>
        DaysInMonthTable[month] + ((month == 2 && DateTime.IsLeapYear(year)) ? 1 : 0);

    private static ReadOnlySpan<byte> DaysInMonthTable => [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

    private static bool Digits(ReadOnlySpan<char> value, int at, int width, out int number)
    {
        number = 0;
        for (int i = at; i < at + width; i++)
        {
            int d = value[i] - '0';
            if ((uint)d > 9)
            {
                return false;
            }

            number = (number * 10) + d;
        }

        return true;
    }
}
