using System.Globalization;
using System.Text;

namespace Linkage.File2;

/// <summary>
/// Checks one value against its column (type, range, format, code list, geography size) and computes what a generalised
/// column writes; <see cref="Describe"/> says why a value failed, never echoing it.
/// </summary>
internal sealed class ValueCheck(ColumnPlan plan)
{
    private readonly ColumnSpec[] _columns = plan.Columns;
    private readonly CodeList?[] _codeLists = plan.CodeLists;
    private readonly bool[] _warnColumns = plan.WarnColumns;

    /// <summary>The code index of a value outside its list in an onUnexpected: warn column (written as text, counted).</summary>
    public const int UnexpectedCode = -2;

    /// <summary>Checks one value against its column; <see cref="Describe"/> says why a value failed, out of this hot path.</summary>
    public CheckFailure Check(Lane lane, int c, ReadOnlySpan<char> value)
    {
        var column = _columns[c];
        if (value.IsEmpty)
        {
            // An empty optional value stays empty in the output: nothing of the previous row's value may carry over.
            lane.Code[c] = -1;
            lane.GeneralisedLength[c] = 0;
            return column.Required ? CheckFailure.Required : CheckFailure.None;
        }

        if (column.MaxLength is { } max && value.Length > max)
        {
            return CheckFailure.TooLong;
        }

        switch (column.Type)
        {
            case ColumnType.Integer:
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
                {
                    return CheckFailure.NotInteger;
                }

                if ((column.Min is { } lo && number < lo) || (column.Max is { } hi && number > hi))
                {
                    return CheckFailure.OutOfRange;
                }

                lane.Integer[c] = number;
                break;
            case ColumnType.Decimal:
                if (!IsDecimal(value))
                {
                    return CheckFailure.NotDecimal;
                }

                break;
            case ColumnType.Date:
                if (!column.DateFormat!.TryParse(value, out lane.Year[c], out lane.Month[c], out _))
                {
                    return CheckFailure.NotDate;
                }

                break;
            case ColumnType.Code:
                lane.Code[c] = _codeLists[c]!.IndexOf(value);
                if (lane.Code[c] < 0)
                {
                    if (!_warnColumns[c])
                    {
                        return CheckFailure.NotCode;
                    }

                    lane.Code[c] = UnexpectedCode;
                }

                break;
        }

        if (column.Rule == ColumnRule.EncryptGeography && !FitsOneBlock(value))
        {
            return CheckFailure.GeographyTooLong;
        }

        if (column.Rule == ColumnRule.Generalise)
        {
            lane.GeneralisedLength[c] = Generalise(lane, column, c, lane.Generalised[c]);
        }

        return CheckFailure.None;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IsDecimal(ReadOnlySpan<char> value) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);

    /// <summary>Why a value is bad, never echoing the value.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static string Describe(CheckFailure failure, ColumnSpec column) => failure switch
    {
        CheckFailure.Required => "is empty but required",
        CheckFailure.TooLong => $"is longer than {column.MaxLength} characters",
        CheckFailure.NotInteger => "is not a whole number",
        CheckFailure.OutOfRange => $"is outside {column.Min}..{column.Max}",
        CheckFailure.NotDecimal => "is not a decimal number (use . as the decimal point)",
        CheckFailure.NotDate => $"is not a valid date in the format {column.DateFormat!.Pattern}",
        CheckFailure.NotCode => "is not in the column's code list",
        CheckFailure.GeographyTooLong => "is longer than 15 UTF-8 bytes, too long to encrypt as a geography",
        _ => throw new ArgumentOutOfRangeException(nameof(failure)),
    };

    public enum CheckFailure
    {
        None,
        Required,
        TooLong,
        NotInteger,
        OutOfRange,
        NotDecimal,
        NotDate,
        NotCode,
        GeographyTooLong,
    }

    /// <summary>At most 15 UTF-8 bytes, counted only when it could be more (over 5 chars and not all ASCII, or over 15).</summary>
    private static bool FitsOneBlock(ReadOnlySpan<char> value) =>
        value.Length <= 5 || (value.Length <= 15 && Ascii.IsValid(value)) || Encoding.UTF8.GetByteCount(value) <= 15;

    private static int Generalise(Lane lane, ColumnSpec column, int c, Span<char> destination)
    {
        int written;
        switch (column.Generalisation)
        {
            case Generalisation.Month:
                return YearMonth(lane.Year[c], lane.Month[c], destination);
            case Generalisation.Year:
                return Year(lane.Year[c], destination);
            default:
                long v = lane.Integer[c];
                if (column.BandTopCode is { } top && v >= top)
                {
                    top.TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
                    destination[written++] = '+';
                    return written;
                }

                // In 128 bits, so bands at either end of the long range do not overflow. The band just below a top code
                // that is not a multiple of the width ends before it (80-84, then 85+), so no two labels overlap.
                Int128 width = column.BandWidth;
                Int128 x = v;
                Int128 low = (x >= 0 ? x / width : -((-x + width - 1) / width)) * width;
                Int128 high = low + width - 1;
                if (column.BandTopCode is { } topCode && high >= topCode)
                {
                    high = topCode - 1;
                }

                low.TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
                destination[written++] = '-';
                high.TryFormat(destination[written..], out int h, provider: CultureInfo.InvariantCulture);
                return written + h;
        }
    }

    /// <summary>yyyy (years are 1–9999 after date validation).</summary>
    public static int Year(int year, Span<char> destination)
    {
        destination[0] = (char)('0' + (year / 1000));
        destination[1] = (char)('0' + (year / 100 % 10));
        destination[2] = (char)('0' + (year / 10 % 10));
        destination[3] = (char)('0' + (year % 10));
        return 4;
    }

    /// <summary>yyyy-MM.</summary>
    public static int YearMonth(int year, int month, Span<char> destination)
    {
        Year(year, destination);
        destination[4] = '-';
        destination[5] = (char)('0' + (month / 10));
        destination[6] = (char)('0' + (month % 10));
        return 7;
    }
}
