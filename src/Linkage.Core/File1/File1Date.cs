namespace Linkage.File1;

/// <summary>How a File 1 date value reads.</summary>
internal enum File1DateKind
{
    Empty,

    /// <summary>A full, real date.</summary>
    Known,

    /// <summary>A year with 00 for an unknown day (and possibly month) where the field allows it.</summary>
    PartlyUnknown,

    /// <summary><c>00/00/0000</c>: a past address whose end date is unknown (ADDRESS_END_DATE only).</summary>
    PastUnknown,

    BadFormat,
    NotACalendarDate,
    UnknownPartNotAllowed,
}

/// <summary>Parses <c>dd/mm/yyyy</c> with the File 1 conventions for unknown parts.</summary>
internal static class File1Date
{
    /// <param name="value">The field's text.</param>
    /// <param name="allowUnknownParts">Day or month may be 00 (address dates).</param>
    /// <param name="allowAllZero"><c>00/00/0000</c> is allowed (ADDRESS_END_DATE).</param>
    /// <param name="date">The date when known; for partly unknown dates the earliest date it could be.</param>
    public static File1DateKind Parse(ReadOnlySpan<char> value, bool allowUnknownParts, bool allowAllZero, out DateOnly date)
    {
        date = default;
        if (value.IsEmpty)
        {
            return File1DateKind.Empty;
        }

        if (value.Length != 10 || value[2] != '/' || value[5] != '/'
            || !TwoDigits(value[..2], out int day) || !TwoDigits(value.Slice(3, 2), out int month)
            || !TwoDigits(value.Slice(6, 2), out int century) || !TwoDigits(value.Slice(8, 2), out int yy))
        {
            return File1DateKind.BadFormat;
        }

        int year = century * 100 + yy;
        if (day == 0 && month == 0 && year == 0)
        {
            return allowAllZero ? File1DateKind.PastUnknown : File1DateKind.UnknownPartNotAllowed;
        }

        if (year == 0 || month > 12 || day > 31)
        {
            return File1DateKind.NotACalendarDate;
        }

        if (day == 0 || month == 0)
        {
            if (!allowUnknownParts)
            {
                return File1DateKind.UnknownPartNotAllowed;
            }

            // An unknown month with a known day is not a usable date.
            if (month == 0 && day != 0)
            {
                return File1DateKind.NotACalendarDate;
            }

            date = new DateOnly(year, Math.Max(month, 1), 1);
            return File1DateKind.PartlyUnknown;
        }

        if (day > DateTime.DaysInMonth(year, month))
        {
            return File1DateKind.NotACalendarDate;
        }

        date = new DateOnly(year, month, day);
        return File1DateKind.Known;
    }

    private static bool TwoDigits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        if (s[0] is < '0' or > '9' || s[1] is < '0' or > '9')
        {
            return false;
        }

        value = (s[0] - '0') * 10 + (s[1] - '0');
        return true;
    }
}
