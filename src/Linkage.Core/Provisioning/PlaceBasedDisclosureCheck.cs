namespace Linkage.Provisioning;

/// <summary>A combination of non-key values shared by fewer than the threshold of distinct keys (areas). Never a key.</summary>
/// <param name="Values">The combination's values, one per checked column, as given.</param>
/// <param name="Keys">How many distinct keys (areas) share it.</param>
public sealed record SmallPlaceCombination(IReadOnlyList<string> Values, int Keys);

/// <summary>One non-key column judged alone: its distinct values, those shared by fewer than the threshold of keys, and those keys' number.</summary>
public sealed record PlaceColumnFinding(string Column, long Values, long ValuesBelowThreshold, long KeysInValuesBelowThreshold);

/// <summary>
/// What <see cref="PlaceBasedDisclosureCheck"/> found. <see cref="Passes"/> when every combination of the non-key
/// values is shared by at least <see cref="Threshold"/> distinct keys and every row was seen.
/// </summary>
public sealed record PlaceBasedDisclosureReport(
    int Threshold,
    IReadOnlyList<string> Columns,
    long Rows,
    long Keys,
    long Combinations,
    long CombinationsBelowThreshold,
    long KeysInCombinationsBelowThreshold,
    IReadOnlyList<SmallPlaceCombination> SmallCombinations,
    bool SmallCombinationsTruncated,
    IReadOnlyList<PlaceColumnFinding> ColumnsAlone,
    bool Complete)
{
    public bool Passes => Complete && CombinationsBelowThreshold == 0;

    /// <summary>The columns that single out areas even on their own (the first to drop or coarsen).</summary>
    public IEnumerable<string> ColumnsFailingAlone => ColumnsAlone.Where(c => c.ValuesBelowThreshold > 0).Select(c => c.Column);

    /// <summary>A curator-facing explanation with counts and column names only (no key, no value).</summary>
    public string Describe(string keyName = "key")
    {
        if (!Complete)
        {
            return $"The place-based check stopped after {Rows:N0} rows (its limit): a reference table that large is not checked, so it is not accepted.";
        }

        if (Passes)
        {
            return $"Every combination of ({string.Join(", ", Columns)}) is shared by at least {Threshold} {keyName}s.";
        }

        var alone = ColumnsFailingAlone.ToList();
        var cause = alone.Count > 0
            ? $" On its own, {string.Join("; ", ColumnsAlone.Where(c => c.ValuesBelowThreshold > 0).Select(c => $"'{c.Column}' has {c.ValuesBelowThreshold:N0} of {c.Values:N0} values shared by fewer than {Threshold}"))}."
            : " No column does so on its own: the combination of columns does.";
        return $"{CombinationsBelowThreshold:N0} of {Combinations:N0} combinations of ({string.Join(", ", Columns)}) are shared by fewer than {Threshold} {keyName}s "
            + $"({KeysInCombinationsBelowThreshold:N0} of {Keys:N0} {keyName}s), so the table singles out areas and would undo their encryption."
            + cause
            + " Drop those columns or coarsen them (e.g. ranks and scores to deciles, local authorities to regions) until every combination covers at least "
            + $"{Threshold} {keyName}s.";
    }
}

/// <summary>
/// Checks that a place-based reference table (rows of a key, e.g. an encrypted LSOA, and non-key values) cannot single
/// out an area: every combination of its non-key values must be shared by at least k distinct keys (default 10). If
/// the full combination is, so is every combination of fewer columns (each is a union of full ones), so one pass over
/// the full combination decides; each column is also judged alone, to say which to drop or coarsen.
/// </summary>
/// <remarks>
/// Memory is O(rows × columns) (value ids interned per column): reference tables are small (≈ 35,000 LSOAs in England
/// and Wales), and the check is bounded by <c>maxRows</c> (default 1,000,000) — past it, the check stops and the report
/// is incomplete, which does not pass (fail closed). Reports give counts and non-key values only, never a key.
/// </remarks>
public sealed class PlaceBasedDisclosureCheck
{
    public const int DefaultThreshold = 10;

    private readonly string[] _columns;
    private readonly int _threshold;
    private readonly long _maxRows;
    private readonly Dictionary<string, int> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>[] _values;
    private readonly List<string>[] _valueNames;
    private readonly List<int> _rowKeys = [];
    private readonly List<int> _rowValues = []; // rows × columns value ids, row-major
    private bool _complete = true;

    public PlaceBasedDisclosureCheck(IReadOnlyList<string> nonKeyColumns, int threshold = DefaultThreshold, long maxRows = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(nonKeyColumns);
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        _columns = [.. nonKeyColumns];
        _threshold = threshold;
        _maxRows = maxRows;
        _values = _columns.Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
        _valueNames = _columns.Select(_ => new List<string>()).ToArray();
    }

    public long Rows => _rowKeys.Count;

    /// <summary>Adds one row: its key and its non-key values in the constructor's column order.</summary>
    public void Add(string key, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != _columns.Length)
        {
            throw new ArgumentException($"A row has {_columns.Length} non-key values; {values.Count} were given.", nameof(values));
        }

        if (_rowKeys.Count >= _maxRows)
        {
            _complete = false;
            return;
        }

        _rowKeys.Add(Intern(_keys, key));
        for (var c = 0; c < _columns.Length; c++)
        {
            if (!_values[c].TryGetValue(values[c], out var id))
            {
                id = _values[c].Count;
                _values[c].Add(values[c], id);
                _valueNames[c].Add(values[c]);
            }

            _rowValues.Add(id);
        }
    }

    /// <summary>The findings; <paramref name="maxListed"/> bounds the small combinations listed (all are counted).</summary>
    public PlaceBasedDisclosureReport Report(int maxListed = 100)
    {
        var all = Enumerable.Range(0, _columns.Length).ToArray();
        var n = _columns.Length;
        var (combinations, small, keysInSmall, smallIds) = Group(all);
        var listed = smallIds.Take(maxListed)
            .Select(s => new SmallPlaceCombination(all.Select(c => _valueNames[c][_rowValues[(s.FirstRow * n) + c]]).ToArray(), s.Keys))
            .ToList();
        var alone = new List<PlaceColumnFinding>();
        for (var c = 0; c < _columns.Length; c++)
        {
            var (values, below, keys, _) = Group([c]);
            alone.Add(new PlaceColumnFinding(_columns[c], values, below, keys));
        }

        return new PlaceBasedDisclosureReport(_threshold, _columns, _rowKeys.Count, _keys.Count, combinations, small, keysInSmall, listed, smallIds.Count > listed.Count, alone, _complete);
    }

    /// <summary>Groups the rows by the given columns' values and counts distinct keys per group.</summary>
    private (long Groups, long Small, long KeysInSmall, List<(int FirstRow, int Keys)> SmallGroups) Group(int[] columns)
    {
        var n = _columns.Length;
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstRow = new List<int>();
        var pairs = new HashSet<(int Group, int Key)>();
        var ids = new int[columns.Length];
        for (var r = 0; r < _rowKeys.Count; r++)
        {
            for (var i = 0; i < columns.Length; i++)
            {
                ids[i] = _rowValues[(r * n) + columns[i]];
            }

            var name = string.Join(',', ids);
            if (!groups.TryGetValue(name, out var group))
            {
                group = groups.Count;
                groups.Add(name, group);
                firstRow.Add(r);
            }

            pairs.Add((group, _rowKeys[r]));
        }

        var keysPerGroup = new int[groups.Count];
        foreach (var (group, _) in pairs)
        {
            keysPerGroup[group]++;
        }

        var small = new List<(int, int)>();
        long keysInSmall = 0;
        for (var g = 0; g < keysPerGroup.Length; g++)
        {
            if (keysPerGroup[g] < _threshold)
            {
                small.Add((firstRow[g], keysPerGroup[g]));
                keysInSmall += keysPerGroup[g];
            }
        }

        return (groups.Count, small.Count, keysInSmall, small);
    }

    private static int Intern(Dictionary<string, int> ids, string value)
    {
        if (!ids.TryGetValue(value, out var id))
        {
            id = ids.Count;
            ids.Add(value, id);
        }

        return id;
    }
}
