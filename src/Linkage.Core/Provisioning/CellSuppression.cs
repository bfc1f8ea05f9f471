using Linkage.File2;
using Linkage.Keys;
using Linkage.Text;
using Sylvan.Data.Csv;

namespace Linkage.Provisioning;

/// <summary>A small cell reviewers require suppressed (decision 0605): its review item id, and its marginal and cell as the risk report names them.</summary>
public sealed record SuppressionCell(string Item, string Marginal, string Cell);

/// <summary>A suppressed cell and the rows of one rewrite that fell in it (an internal count: publish it masked, decision 0507).</summary>
public sealed record SuppressedCellRows(SuppressionCell Cell, long Rows);

/// <summary>Suppression cannot be applied as the reviewers asked: the dataset must not be provisioned (fail closed). Never holds a value.</summary>
public sealed class CellSuppressionException(string message) : InvalidOperationException(message);

/// <summary>
/// Local suppression at provisioning (decision 0702): in every row of a curated version that falls in a suppressed cell,
/// the values of that marginal's columns are written empty; the row stays, key and token columns are never touched.
/// </summary>
/// <remarks>
/// A row is in a cell when the label the risk report gives the row's cell (<see cref="CurationReport"/>: each dimension
/// <c>name=value</c>, <c>(empty)</c> for an empty value, joined by <c>, </c>) is the cell's text; the value is derived from
/// the curated (output) field exactly as <see cref="RiskKeys"/> derives it from the same row: a date's year or month as
/// the risk tally slices or parses it, a generalised column's label, a kept value as is. Where the curated file cannot
/// tell two input values apart (a text cell neutralised with an apostrophe, <see cref="SpreadsheetFormula"/>, reads the
/// same as one that began with the apostrophe), the row is suppressed when either reading is a suppressed cell: the
/// safe side. A marginal the spec does not have, a cell that cannot be read as its dimensions' values, or a curated
/// header without a dimension's column throws <see cref="CellSuppressionException"/>; nothing is ignored.
/// Counts are of rows written (after the rewrite's row filter). One rewrite at a time.
/// </remarks>
public sealed class CellSuppression : CsvRowSuppressor
{
    private readonly Marginal[] _marginals;
    private readonly int[] _groupOfCell;
    private readonly long[] _groupRows;
    private long _rowsJudged;

    private CellSuppression(IReadOnlyList<SuppressionCell> cells, Marginal[] marginals, int[] groupOfCell, int groups)
    {
        Cells = cells;
        _marginals = marginals;
        _groupOfCell = groupOfCell;
        _groupRows = new long[groups];
    }

    /// <summary>The distinct cells to suppress, in the order given.</summary>
    public IReadOnlyList<SuppressionCell> Cells { get; }

    /// <summary>Rows written with at least one value blanked, over the last rewrite.</summary>
    public long RowsAffected { get; private set; }

    public override int TagsPerRow => _marginals.Length;

    /// <summary>Per cell (as <see cref="Cells"/>), rows of the last rewrite written in it.</summary>
    public IReadOnlyList<SuppressedCellRows> RowsPerCell =>
        [.. Cells.Select((c, i) => new SuppressedCellRows(c, _groupRows[_groupOfCell[i]]))];

    /// <summary>
    /// Reads the cells against the spec's marginals. Throws <see cref="CellSuppressionException"/> (naming the item and
    /// marginal, never the cell's values) for a marginal the spec does not have or a cell that is not a cell of it.
    /// </summary>
    public static CellSuppression Create(DatasetSpec spec, IEnumerable<SuppressionCell> cells)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(cells);
        var distinct = cells.Distinct().ToList();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int g = 0; g < spec.Marginals.Count; g++)
        {
            byName.TryAdd(CurationReport.MarginalName(spec, g), g);
        }

        var marginals = new Dictionary<int, Marginal>();
        int groups = 0;
        var groupOfCell = new int[distinct.Count];
        for (int i = 0; i < distinct.Count; i++)
        {
            var cell = distinct[i];
            if (cell.Marginal is null || !byName.TryGetValue(cell.Marginal, out int g))
            {
                throw new CellSuppressionException($"Suppressed cell {cell.Item}: its marginal is not one of dataset spec '{spec.DatasetId}' ({string.Join("; ", byName.Keys)}).");
            }

            if (!marginals.TryGetValue(g, out var marginal))
            {
                marginal = new Marginal(spec, g);
                marginals.Add(g, marginal);
            }

            if (cell.Cell is null || !marginal.Readable(cell.Cell))
            {
                throw new CellSuppressionException($"Suppressed cell {cell.Item} of marginal '{cell.Marginal}' cannot be read as values of its dimensions ({string.Join(", ", marginal.Dimensions.Select(d => d.Name))}).");
            }

            if (!marginal.Labels.TryGetValue(cell.Cell, out int group))
            {
                group = groups++;
                marginal.Labels.Add(cell.Cell, group);
            }

            groupOfCell[i] = group;
        }

        return new CellSuppression(distinct, [.. marginals.OrderBy(m => m.Key).Select(m => m.Value)], groupOfCell, groups);
    }

    public override IReadOnlyList<int> Bind(IReadOnlyList<string> header)
    {
        Array.Clear(_groupRows);
        RowsAffected = 0;
        _rowsJudged = 0;
        var blankable = new List<int>();
        foreach (var m in _marginals)
        {
            foreach (var d in m.Dimensions)
            {
                d.Ordinal = -1;
                for (int i = 0; i < header.Count; i++)
                {
                    if (string.Equals(header[i], d.OutputName, StringComparison.Ordinal))
                    {
                        d.Ordinal = i;
                    }
                }

                if (d.Ordinal < 0)
                {
                    throw new CellSuppressionException($"The curated file has no column '{d.OutputName}' (marginal dimension {d.Name}): its cells cannot be suppressed.");
                }

                blankable.Add(d.Ordinal);
            }
        }

        return [.. blankable.Distinct()];
    }

    public override bool Judge(CsvDataReader row, Span<bool> blank, Span<int> tags)
    {
        _rowsJudged++;
        bool any = false;
        for (int g = 0; g < _marginals.Length; g++)
        {
            var m = _marginals[g];
            int group = m.Match(row, null, _rowsJudged);
            tags[g] = group;
            if (group >= 0)
            {
                any = true;
                foreach (var d in m.Dimensions)
                {
                    blank[d.Ordinal] = true;
                }
            }
        }

        return any;
    }

    public override void Written(ReadOnlySpan<int> tags, ReadOnlySpan<bool> written)
    {
        int n = _marginals.Length;
        for (int r = 0; r < written.Length; r++)
        {
            if (!written[r])
            {
                continue;
            }

            bool any = false;
            foreach (int group in tags.Slice(r * n, n))
            {
                if (group >= 0)
                {
                    _groupRows[group]++;
                    any = true;
                }
            }

            if (any)
            {
                RowsAffected++;
            }
        }
    }

    /// <summary>
    /// Whether a row (fields by the curated header) falls in a suppressed cell of any marginal: for tests and checks, the
    /// same matching as the rewrite. Binds to <paramref name="header"/>.
    /// </summary>
    public IReadOnlyList<string> MatchedCells(IReadOnlyList<string> header, IReadOnlyList<string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Bind(header);
        var matched = new List<string>();
        foreach (var m in _marginals)
        {
            if (m.Match(null, fields, 1) is int group and >= 0)
            {
                matched.Add(m.Labels.First(l => l.Value == group).Key);
            }
        }

        return matched;
    }

    /// <summary>How a dimension's cell value is derived from the curated field (as <see cref="RiskKeys"/> derives it from the row).</summary>
    private enum Derivation
    {
        /// <summary>The value as written: codes, integers, decimals, dates without a reduction.</summary>
        AsWritten,

        /// <summary>The year of a kept date: four characters at the format's year offset.</summary>
        YearOfDate,

        /// <summary>The yyyy-MM of a kept date: sliced when the format holds yyyy-MM, else parsed.</summary>
        MonthOfDate,

        /// <summary>The year of a generalised date (written yyyy-MM or yyyy): its first four characters.</summary>
        YearOfGeneralised,

        /// <summary>A generalised label (band, month, year): written as text, so a leading apostrophe may be the neutraliser.</summary>
        GeneralisedLabel,

        /// <summary>Free text kept as is, written neutralised: "'=x" reads as "=x" or "'=x".</summary>
        Text,

        /// <summary>A code column that keeps unexpected values as text (onUnexpected: warn): listed codes are written as is.</summary>
        WarnCode,
    }

    private sealed class Dimension
    {
        public required string Name { get; init; }

        public required string OutputName { get; init; }

        public required Derivation Derivation { get; init; }

        public DateFormat? Format { get; init; }

        /// <summary>A code column's listed codes (ordinal).</summary>
        public HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? Codes { get; init; }

        /// <summary>The value is a yyyy-MM month (a reduction to month, or a column generalised to month).</summary>
        public bool IsMonth { get; init; }

        /// <summary>Only codes of the list are values (onUnexpected: reject).</summary>
        public bool ListedOnly { get; init; }

        public int Ordinal { get; set; } = -1;

        /// <summary>The <c>[, ]name=</c> that starts this dimension's part of a label.</summary>
        public required string Prefix { get; init; }

        public char[] Scratch { get; } = new char[8];
    }

    private sealed class Marginal
    {
        private char[] _label = new char[256];

        public Marginal(DatasetSpec spec, int g)
        {
            var dims = spec.Marginals[g];
            Dimensions = [.. dims.Select((d, i) =>
            {
                var column = spec.Columns[d.ColumnIndex];
                string name = CurationReport.DimensionName(spec, d);
                var derivation = (d.Granularity, column.Rule) switch
                {
                    (Generalisation.Year, ColumnRule.Generalise) => Derivation.YearOfGeneralised,
                    (Generalisation.Month, ColumnRule.Generalise) when column.Generalisation == Generalisation.Month => Derivation.GeneralisedLabel,
                    (Generalisation.Year, _) => Derivation.YearOfDate,
                    (Generalisation.Month, ColumnRule.Keep) => Derivation.MonthOfDate,
                    (Generalisation.None, ColumnRule.Generalise) => Derivation.GeneralisedLabel,
                    (Generalisation.None, ColumnRule.Keep) when column.Type == ColumnType.String => Derivation.Text,
                    (Generalisation.None, ColumnRule.Keep) when column.Type == ColumnType.Code && column.OnUnexpected == UnexpectedCode.Warn => Derivation.WarnCode,
                    (Generalisation.None, ColumnRule.Keep) => Derivation.AsWritten,
                    _ => throw new CellSuppressionException($"Marginal dimension {name} of dataset spec '{spec.DatasetId}' is not one provisioning can match."),
                };
                return new Dimension
                {
                    Name = name,
                    OutputName = column.OutputName,
                    Derivation = derivation,
                    Format = column.DateFormat,
                    Codes = column.Type == ColumnType.Code ? new HashSet<string>(column.Labels.Keys, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>() : null,
                    IsMonth = d.Granularity == Generalisation.Month || (column.Rule == ColumnRule.Generalise && column.Type == ColumnType.Date && column.Generalisation == Generalisation.Month),
                    ListedOnly = column.Type == ColumnType.Code && column.OnUnexpected == UnexpectedCode.Reject,
                    Prefix = (i == 0 ? "" : CurationReport.CellSeparator) + name + "=",
                };
            })];
            Lookup = Labels.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public Dimension[] Dimensions { get; }

        /// <summary>Suppressed cell label → its group (cells with the same label are one group).</summary>
        public Dictionary<string, int> Labels { get; } = new(StringComparer.Ordinal);

        private Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }

        /// <summary>Whether <paramref name="cell"/> reads as a label of this marginal: one split into plausible values exists.</summary>
        public bool Readable(string cell) => Readable(cell, 0, 0);

        /// <summary>The group of the suppressed cell the row is in, or -1: fields from <paramref name="row"/>, or else <paramref name="fields"/>.</summary>
        public int Match(CsvDataReader? row, IReadOnlyList<string>? fields, long rowNumber) => Build(row, fields, 0, 0, rowNumber);

        /// <summary>Writes dimension <paramref name="i"/>'s part (each reading of its value in turn) and looks the label up at the end.</summary>
        private int Build(CsvDataReader? row, IReadOnlyList<string>? fields, int i, int at, long rowNumber)
        {
            if (i == Dimensions.Length)
            {
                return Lookup.TryGetValue(_label.AsSpan(0, at), out int group) ? group : -1;
            }

            var d = Dimensions[i];
            ReadOnlySpan<char> written = row is not null ? row.GetFieldSpan(d.Ordinal) : fields![d.Ordinal];
            var first = Value(d, written, rowNumber, out bool alsoAsWritten);
            int found = Build(row, fields, i + 1, Append(d, first, at), rowNumber);
            if (found < 0 && alsoAsWritten)
            {
                found = Build(row, fields, i + 1, Append(d, written, at), rowNumber);
            }

            return found;
        }

        private int Append(Dimension d, ReadOnlySpan<char> value, int at)
        {
            if (value.IsEmpty)
            {
                value = CurationReport.EmptyValue;
            }

            int need = at + d.Prefix.Length + value.Length;
            if (need > _label.Length)
            {
                Array.Resize(ref _label, need * 2);
            }

            d.Prefix.CopyTo(_label.AsSpan(at));
            at += d.Prefix.Length;
            value.CopyTo(_label.AsSpan(at));
            return at + value.Length;
        }

        /// <summary>
        /// The cell value the risk tally took for this row, from the curated field; <paramref name="alsoAsWritten"/> when
        /// the field could also have been written from a value equal to itself (a neutralised text cell).
        /// </summary>
        private static ReadOnlySpan<char> Value(Dimension d, ReadOnlySpan<char> written, long rowNumber, out bool alsoAsWritten)
        {
            alsoAsWritten = false;
            if (written.IsEmpty)
            {
                return written;
            }

            switch (d.Derivation)
            {
                case Derivation.YearOfDate:
                    return Slice(d, written, d.Format!.YearOffset, 4, rowNumber);
                case Derivation.MonthOfDate when d.Format!.HasYearDashMonth:
                    return Slice(d, written, d.Format.YearOffset, 7, rowNumber);
                case Derivation.MonthOfDate:
                    if (!d.Format.TryParse(written, out int year, out int month, out _))
                    {
                        throw Unreadable(d, rowNumber);
                    }

                    return d.Scratch.AsSpan(0, ValueCheck.YearMonth(year, month, d.Scratch));
                case Derivation.YearOfGeneralised:
                    return Slice(d, written, 0, 4, rowNumber);
                case Derivation.GeneralisedLabel:
                    // Labels are generated (bands, months, years): one with an apostrophe is always the neutraliser's.
                    return Neutralised(written) ? written[1..] : written;
                case Derivation.Text:
                    alsoAsWritten = Neutralised(written);
                    return alsoAsWritten ? written[1..] : written;
                case Derivation.WarnCode:
                    // A listed code is written as is; an unexpected value as neutralised text.
                    alsoAsWritten = Neutralised(written) && !d.Codes!.Value.Contains(written[1..]);
                    return alsoAsWritten ? written[1..] : written;
                default:
                    return written;
            }
        }

        private static bool Neutralised(ReadOnlySpan<char> written) =>
            written.Length > 1 && written[0] == SpreadsheetFormula.Neutraliser && SpreadsheetFormula.StartsFormula(written[1..]);

        private static ReadOnlySpan<char> Slice(Dimension d, ReadOnlySpan<char> written, int offset, int length, long rowNumber) =>
            written.Length >= offset + length ? written.Slice(offset, length) : throw Unreadable(d, rowNumber);

        private static CellSuppressionException Unreadable(Dimension d, long rowNumber) =>
            new($"Data row {rowNumber}, column '{d.OutputName}': not a value marginal dimension {d.Name} can be derived from.");

        /// <summary>
        /// Reads dimension <paramref name="i"/>'s part from <paramref name="at"/>: its prefix, then a value up to the next
        /// dimension's prefix (any occurrence: values may hold ", name="), plausible for the dimension.
        /// </summary>
        private bool Readable(string cell, int i, int at)
        {
            var d = Dimensions[i];
            if (string.CompareOrdinal(cell, at, d.Prefix, 0, d.Prefix.Length) != 0 || cell.Length - at < d.Prefix.Length)
            {
                return false;
            }

            at += d.Prefix.Length;
            if (i == Dimensions.Length - 1)
            {
                return Plausible(d, cell.AsSpan(at));
            }

            string next = Dimensions[i + 1].Prefix;
            for (int end = cell.IndexOf(next, at, StringComparison.Ordinal); end >= 0; end = cell.IndexOf(next, end + 1, StringComparison.Ordinal))
            {
                if (Plausible(d, cell.AsSpan(at, end - at)) && Readable(cell, i + 1, end))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A value the report could have shown for this dimension: never blank; a year, a month, a listed code where that is all it can be.</summary>
        private static bool Plausible(Dimension d, ReadOnlySpan<char> value)
        {
            if (value.SequenceEqual(CurationReport.EmptyValue))
            {
                return true;
            }

            return d.Derivation switch
            {
                _ when value.IsEmpty => false,
                Derivation.YearOfDate or Derivation.YearOfGeneralised => value.Length == 4 && int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int y) && y >= 1,
                _ when d.IsMonth => IsMonth(value),
                _ when d.ListedOnly => d.Codes!.Value.Contains(value),
                _ => true,
            };
        }

        private static bool IsMonth(ReadOnlySpan<char> value) =>
            value.Length == 7 && value[4] == '-'
            && int.TryParse(value[..4], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int y) && y >= 1
            && int.TryParse(value[5..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m) && m is >= 1 and <= 12;
    }
}
