namespace Linkage.File2;

/// <summary>
/// The one column plan of a run, from the dataset spec: which columns are the key, output, geography, generalised,
/// code-listed or shape-checked, how each kept value is written, and the risk groupings; then, from the delivery's
/// header, where each column is in the input (<see cref="MapHeader"/>). Every part of the run reads it.
/// </summary>
internal sealed class ColumnPlan
{
    public ColumnPlan(DatasetSpec spec)
    {
        Spec = spec;
        Columns = [.. spec.Columns];
        int n = Columns.Length;
        var columns = Columns;
        KeyColumn = Array.FindIndex(columns, c => c.Rule == ColumnRule.EncryptId);
        OutputColumns = Enumerable.Range(0, n).Where(i => columns[i].IsOutput).ToArray();
        GeoColumns = Enumerable.Range(0, n).Where(i => columns[i].Rule == ColumnRule.EncryptGeography).ToArray();
        GeoIndex = Enumerable.Range(0, n).Select(i => Array.IndexOf(GeoColumns, i)).ToArray();
        GeneralisedColumns = Enumerable.Range(0, n).Where(i => columns[i].Rule == ColumnRule.Generalise).ToArray();
        GeneralisedIndex = Enumerable.Range(0, n).Select(i => Array.IndexOf(GeneralisedColumns, i)).ToArray();
        HasHidden = columns.Any(c => c.Rule is ColumnRule.Exclude or ColumnRule.Generalise or ColumnRule.EncryptGeography);
        AlwaysHidden = columns.Any(c => c.Rule is ColumnRule.Exclude or ColumnRule.Generalise);
        CheckShape = columns.Select(c => c.Rule is ColumnRule.Keep or ColumnRule.Generalise).ToArray();
        CountShape = columns.Select((c, i) => CheckShape[i] && CanLookLikeIdentifier(c)).ToArray();
        CodeLists = columns.Select(c => c.Type == ColumnType.Code ? new CodeList(c.Labels.Keys) : null).ToArray();
        CodeColumns = Enumerable.Range(0, n).Where(i => columns[i].Type == ColumnType.Code).ToArray();
        CodeIndex = Enumerable.Range(0, n).Select(i => Array.IndexOf(CodeColumns, i)).ToArray();
        OutputKinds = columns.Select(KindOf).ToArray();
        WarnColumns = columns.Select(c => c.Type == ColumnType.Code && c.OnUnexpected == UnexpectedCode.Warn).ToArray();
        AnyWarn = WarnColumns.Any(w => w);
        KeyScheme = spec.KeyScheme;
        CheckPermissions = spec.PermissionChecks == PermissionChecks.Ukllc;
        TemporalColumn = spec.Catalogue.TemporalCoverageColumn is { } temporal ? Array.FindIndex(columns, c => c.Name == temporal) : -1;
        Groupings = spec.Marginals.Count + (spec.QuasiIdentifiers.Count > 0 ? 1 : 0);

        // Flat copies of the risk groupings (marginals, then the quasi-identifier set): the hot path avoids interface calls.
        RiskColumns = spec.Marginals.Select(m => m.Select(d => d.ColumnIndex).ToArray())
            .Concat(spec.QuasiIdentifiers.Count > 0 ? [spec.QuasiIdentifiers.ToArray()] : []).ToArray();
        RiskGranularity = spec.Marginals.Select(m => m.Select(d => d.Granularity).ToArray())
            .Concat(spec.QuasiIdentifiers.Count > 0 ? [new Generalisation[spec.QuasiIdentifiers.Count]] : []).ToArray();
        Ordinal = new int[n];
    }

    public DatasetSpec Spec { get; }

    public ColumnSpec[] Columns { get; }

    public int KeyColumn { get; }

    public int[] OutputColumns { get; }

    public int[] GeoColumns { get; }

    /// <summary>Per column: its index among the geography columns, or -1.</summary>
    public int[] GeoIndex { get; }

    public int[] GeneralisedColumns { get; }

    public int[] GeneralisedIndex { get; }

    /// <summary>Some column's value may be absent from the output (excluded, generalised, or a geography that may be blanked).</summary>
    public bool HasHidden { get; }

    /// <summary>Every row hides something (an excluded or generalised column).</summary>
    public bool AlwaysHidden { get; }

    /// <summary>Kept in the clear: checked for identifier-shaped values.</summary>
    public bool[] CheckShape { get; }

    /// <summary>Checked and able to hold an identifier shape: counted over the whole file.</summary>
    public bool[] CountShape { get; }

    public CodeList?[] CodeLists { get; }

    public int[] CodeColumns { get; }

    public int[] CodeIndex { get; }

    public OutputKind[] OutputKinds { get; }

    /// <summary>Per column: a code column whose unexpected values are kept as text and counted (onUnexpected: warn).</summary>
    public bool[] WarnColumns { get; }

    public bool AnyWarn { get; }

    public KeyScheme KeyScheme { get; }

    /// <summary>The UK LLC permission checks apply (snapshot lookup, drops); false for checks: none.</summary>
    public bool CheckPermissions { get; }

    /// <summary>The date column whose kept months give the temporal coverage, or -1.</summary>
    public int TemporalColumn { get; }

    /// <summary>The key column is the person key (encrypt-id); false for reference datasets.</summary>
    public bool HasPersonKey => KeyColumn >= 0;

    /// <summary>Risk groupings: the marginals, then (if any) the quasi-identifier set.</summary>
    public int Groupings { get; }

    public int[][] RiskColumns { get; }

    public Generalisation[][] RiskGranularity { get; }

    /// <summary>Per column: its field in the input (set by <see cref="MapHeader"/>).</summary>
    public int[] Ordinal { get; }

    public int InputFieldCount { get; private set; }

    public List<string> MapHeader(Sylvan.Data.Csv.CsvDataReader reader)
    {
        var problems = new List<string>();
        InputFieldCount = reader.FieldCount;
        var names = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        foreach (var dup in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Column '{dup.Key}' appears {dup.Count()} times in the header.");
        }

        for (int i = 0; i < Columns.Length; i++)
        {
            Ordinal[i] = names.IndexOf(Columns[i].Name);
            if (Ordinal[i] < 0)
            {
                string? near = names.FirstOrDefault(n => string.Equals(n.Trim(), Columns[i].Name, StringComparison.OrdinalIgnoreCase));
                problems.Add(near is null
                    ? $"Column '{Columns[i].Name}' required by dataset spec '{Spec.DatasetId}' is missing from the header."
                    : $"Column '{Columns[i].Name}' is missing; the header has '{near}' (names must match exactly).");
            }
        }

        foreach (var extra in names.Where(n => !Columns.Any(c => c.Name == n)).Distinct())
        {
            problems.Add($"Column '{extra}' is not in dataset spec '{Spec.DatasetId}'; add it to the spec (with a rule, e.g. exclude) or remove it from the file.");
        }

        return problems;
    }

    /// <summary>
    /// Whether a valid value of this column could be shaped like an NHS number or postcode. Dates with separators and
    /// code lists without such codes cannot, so the whole-file count skips them (the sample check still covers them).
    /// </summary>
    private static bool CanLookLikeIdentifier(ColumnSpec column) => column.Type switch
    {
        ColumnType.Date => column.DateFormat!.Pattern.Length is 10 && column.DateFormat.Pattern.All(char.IsAsciiLetter),
        // A warn column keeps values outside its list, which could be anything.
        ColumnType.Code when column.OnUnexpected == UnexpectedCode.Warn => true,
        ColumnType.Code => column.Labels.Keys.Any(k => IdentifierShape.LooksLikeNhsNumber(k) || IdentifierShape.LooksLikePostcode(k)),
        _ => true,
    };

    /// <summary>How a kept column's checked value is written: most need no per-character CSV quoting check.</summary>
    private static OutputKind KindOf(ColumnSpec column) => column switch
    {
        { Type: ColumnType.Code } => OutputKind.Code,
        { Type: ColumnType.Integer } => OutputKind.Ascii,
        { Type: ColumnType.Date } when column.DateFormat!.Pattern.All(ch => char.IsAscii(ch) && ch is not (',' or '"' or '\r' or '\n')) => OutputKind.Ascii,
        { Type: ColumnType.String } => OutputKind.Text,
        _ => OutputKind.Csv,
    };

    public static string RuleName(ColumnRule rule) => rule switch
    {
        ColumnRule.EncryptId => "encrypt-id",
        ColumnRule.EncryptGeography => "encrypt-geography",
        _ => rule.ToString().ToLowerInvariant(),
    };
}

internal enum OutputKind
{
    /// <summary>Any value: <see cref="CsvField.Write"/> (checked decimals: a leading '-' is a number's sign, kept).</summary>
    Csv,

    /// <summary>Free text: <see cref="CsvField.WriteText"/>, which neutralises a cell a spreadsheet would run as a formula.</summary>
    Text,

    /// <summary>A checked value that is ASCII with no character CSV quotes (integers, dates of an ASCII pattern).</summary>
    Ascii,

    /// <summary>A code: its precomputed bytes.</summary>
    Code,
}
