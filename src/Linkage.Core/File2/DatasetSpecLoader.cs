using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>
/// Loads and validates a JSON dataset spec (docs/formats/dataset-spec.md). Collects every problem, then throws one
/// <see cref="DatasetSpecException"/>; unknown properties are errors so a typo cannot silently drop a rule.
/// </summary>
public static partial class DatasetSpecLoader
{
    private const int MaxEncryptedBytes = 15;

    private static readonly string[] TopLevel = ["$schema", "specVersion", "datasetId", "title", "description", "owner", "source", "kind", "keyScheme", "legalBasis", "keyColumn", "permissions", "columns", "risk", "catalogue", "refresh"];
    private static readonly string[] ColumnProps = ["name", "type", "rule", "output", "required", "maxLength", "min", "max", "format", "labels", "generalise", "description", "onUnexpected"];
    private static readonly string[] PermissionProps = ["checks", "required", "nationalOptOutApplies", "geography"];

    private static readonly Dictionary<string, DatasetKind> Kinds = new(StringComparer.Ordinal)
    {
        ["participant"] = DatasetKind.Participant,
        ["reference"] = DatasetKind.Reference,
    };

    private static readonly Dictionary<string, KeyScheme> KeySchemes = new(StringComparer.Ordinal)
    {
        ["ukllc-ttp-token"] = KeyScheme.UkllcTtpToken,
        ["sde-patient-key"] = KeyScheme.SdePatientKey,
        ["none"] = KeyScheme.None,
    };

    private static readonly Dictionary<string, PermissionChecks> Checks = new(StringComparer.Ordinal)
    {
        ["ukllc"] = PermissionChecks.Ukllc,
        ["none"] = PermissionChecks.None,
    };

    private static readonly Dictionary<string, UnexpectedCode> OnUnexpected = new(StringComparer.Ordinal)
    {
        ["reject"] = UnexpectedCode.Reject,
        ["warn"] = UnexpectedCode.Warn,
    };
    private static readonly string[] GeographyProps = ["flag", "whenMissing"];
    private static readonly string[] GeneraliseProps = ["to", "width", "topCode"];
    private static readonly string[] RiskProps = ["quasiIdentifiers", "marginals"];

    private static readonly Dictionary<string, ColumnType> Types = new(StringComparer.Ordinal)
    {
        ["string"] = ColumnType.String,
        ["integer"] = ColumnType.Integer,
        ["decimal"] = ColumnType.Decimal,
        ["date"] = ColumnType.Date,
        ["code"] = ColumnType.Code,
    };

    private static readonly Dictionary<string, ColumnRule> Rules = new(StringComparer.Ordinal)
    {
        ["keep"] = ColumnRule.Keep,
        ["encrypt-id"] = ColumnRule.EncryptId,
        ["encrypt-geography"] = ColumnRule.EncryptGeography,
        ["generalise"] = ColumnRule.Generalise,
        ["exclude"] = ColumnRule.Exclude,
    };

    internal static readonly string[] FlagNames = Enum.GetNames<PermissionFlags>()
        .Where(n => n is not (nameof(PermissionFlags.None) or nameof(PermissionFlags.Active) or nameof(PermissionFlags.NationalOptOutApplies)))
        .ToArray();

    public static DatasetSpec LoadFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new DatasetSpecException([new SpecProblem(path, "$", $"The spec file cannot be read ({e.GetType().Name}).", "Check the path and permissions.")]);
        }

        return Parse(bytes, Path.GetFileName(path));
    }

    public static DatasetSpec Parse(string json, string sourceName) => Parse(Encoding.UTF8.GetBytes(json), sourceName);

    public static DatasetSpec Parse(ReadOnlySpan<byte> utf8Json, string sourceName)
    {
        var problems = new Problems(sourceName);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new DatasetSpecException([new SpecProblem(sourceName, "$", $"Not valid JSON: line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}.", "Fix the JSON syntax (quotes, commas, brackets).")]);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetSpecException([new SpecProblem(sourceName, "$", "The spec must be a JSON object.", "Wrap the spec in { … }.")]);
            }

            var spec = Build(root, problems, sourceName, SHA256.HashData(utf8Json));
            if (problems.List.Count > 0 || spec is null)
            {
                throw new DatasetSpecException(problems.List);
            }

            return spec;
        }
    }

    private static DatasetSpec? Build(JsonElement root, Problems problems, string sourceName, byte[] sha)
    {
        problems.UnknownProperties(root, "$", TopLevel, root.TryGetProperty("datasetId", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null);
        long specVersion = problems.Integer(root, "$", "specVersion", required: true) ?? 1;
        if (specVersion != 1)
        {
            problems.Add("$.specVersion", $"Spec version {specVersion} is not supported.", "Use \"specVersion\": 1.");
        }

        string datasetId = problems.Text(root, "$", "datasetId", required: true) ?? "";
        if (datasetId.Length > 0 && !DatasetIdPattern().IsMatch(datasetId))
        {
            problems.Add("$.datasetId", $"'{datasetId}' is not a valid dataset id.", "Use 3–64 lower-case letters, digits and underscores, starting with a letter (e.g. nhse_lsoa11_dataset_mapping).");
        }

        string title = problems.Text(root, "$", "title", required: true) ?? "";
        string owner = problems.Text(root, "$", "owner", required: true) ?? "";
        string source = problems.Text(root, "$", "source", required: true) ?? "";
        string description = problems.Text(root, "$", "description", required: false) ?? "";
        problems.Text(root, "$", "$schema", required: false);
        string keyColumn = problems.Text(root, "$", "keyColumn", required: true) ?? "";
        var kind = problems.Choice(root, "$", "kind", Kinds, required: false) ?? DatasetKind.Participant;
        var keyScheme = problems.Choice(root, "$", "keyScheme", KeySchemes, required: false) ?? (kind == DatasetKind.Reference ? KeyScheme.None : KeyScheme.UkllcTtpToken);
        string legalBasis = problems.Text(root, "$", "legalBasis", required: true) ?? "";
        if (kind == DatasetKind.Reference && keyScheme != KeyScheme.None)
        {
            problems.Add("$.keyScheme", "A reference dataset has no person key, so its keyScheme must be \"none\".", "Set \"keyScheme\": \"none\" (or \"kind\": \"participant\" if the rows are about people).");
        }
        else if (kind == DatasetKind.Participant && keyScheme == KeyScheme.None)
        {
            problems.Add("$.keyScheme", "A participant dataset needs a person key scheme.", "Use \"ukllc-ttp-token\" or \"sde-patient-key\", or set \"kind\": \"reference\" for place-based data.");
        }

        var columns = new List<ColumnSpec>();
        if (!root.TryGetProperty("columns", out var columnsElement) || columnsElement.ValueKind != JsonValueKind.Array || columnsElement.GetArrayLength() == 0)
        {
            problems.Add("$.columns", "The spec must list its input columns.", "Add \"columns\": [ { \"name\": …, \"type\": …, \"rule\": … }, … ].");
        }
        else
        {
            int i = 0;
            foreach (var c in columnsElement.EnumerateArray())
            {
                var column = BuildColumn(c, $"$.columns[{i}]", problems);
                if (column is not null)
                {
                    columns.Add(column);
                }

                i++;
            }
        }

        CheckColumnSet(columns, keyColumn, kind, keyScheme, problems);
        var (checks, required, optOut, geoFlag, geoMissing) = BuildPermissions(root, columns, kind, keyScheme, problems);
        var (qis, marginals) = BuildRisk(root, columns, problems);
        var catalogue = CatalogueBlock.Build(root, columns, problems);
        var refresh = RefreshBlock.Build(root, problems);
        if (problems.List.Count > 0)
        {
            return null;
        }

        return new DatasetSpec(datasetId, title, owner, source, keyColumn, columns, required, optOut, geoFlag, geoMissing, qis, marginals, sourceName, Convert.ToHexStringLower(sha))
        {
            Kind = kind,
            KeyScheme = keyScheme,
            PermissionChecks = checks,
            LegalBasis = legalBasis,
            Description = description,
            Catalogue = catalogue,
            Refresh = refresh,
        };
    }

    private static ColumnSpec? BuildColumn(JsonElement c, string path, Problems problems)
    {
        if (c.ValueKind != JsonValueKind.Object)
        {
            problems.Add(path, "A column must be a JSON object.", "Write { \"name\": …, \"type\": …, \"rule\": … }.");
            return null;
        }

        problems.UnknownProperties(c, path, ColumnProps);
        string name = problems.Text(c, path, "name", required: true) ?? "";
        if (name.Length > 0 && !ColumnNamePattern().IsMatch(name))
        {
            problems.Add($"{path}.name", $"'{name}' is not a usable column name.", "Use letters, digits and underscores, starting with a letter, at most 64 characters.");
        }

        ColumnType type = problems.Choice(c, path, "type", Types, required: true) ?? ColumnType.String;
        ColumnRule rule = problems.Choice(c, path, "rule", Rules, required: true) ?? ColumnRule.Keep;
        string output = problems.Text(c, path, "output", required: false) ?? name;
        if (output.Length > 0 && !ColumnNamePattern().IsMatch(output))
        {
            problems.Add($"{path}.output", $"'{output}' is not a usable output column name.", "Use letters, digits and underscores, starting with a letter.");
        }

        bool required = problems.Bool(c, path, "required") ?? (rule == ColumnRule.EncryptId);
        int? maxLength = problems.Int32(c, path, "maxLength", required: false);
        long? min = problems.Integer(c, path, "min", required: false);
        long? max = problems.Integer(c, path, "max", required: false);
        string description = problems.Text(c, path, "description", required: false) ?? "";
        DateFormat? format = null;
        string? formatText = problems.Text(c, path, "format", required: type == ColumnType.Date);
        if (formatText is not null)
        {
            if (type != ColumnType.Date)
            {
                problems.Add($"{path}.format", "Only date columns take a format.", "Remove \"format\" or set \"type\": \"date\".");
            }
            else
            {
                try
                {
                    format = DateFormat.Create(formatText);
                }
                catch (FormatException e)
                {
                    problems.Add($"{path}.format", $"'{formatText}' is not a supported date format ({e.Message}).", "Use yyyy, MM, dd (and optionally HH, mm, ss) with separators, e.g. yyyy-MM-dd or dd/MM/yyyy.");
                }
            }
        }

        if ((min is not null || max is not null) && type != ColumnType.Integer)
        {
            problems.Add(path, "Only integer columns take min/max.", "Remove min/max or set \"type\": \"integer\".");
        }

        var labels = problems.Labels(c, path);
        if (type == ColumnType.Code && labels.Count == 0)
        {
            problems.Add($"{path}.labels", "A code column needs its code list.", "Add \"labels\": { \"CODE\": \"what it means\", … }.");
        }

        var (generalisation, width, topCode) = BuildGeneralise(c, path, type, rule, problems);
        if (rule == ColumnRule.EncryptId && type != ColumnType.String)
        {
            problems.Add($"{path}.type", "The encrypt-id column holds person keys, so its type must be string.", "Set \"type\": \"string\".");
        }

        var onUnexpected = problems.Choice(c, path, "onUnexpected", OnUnexpected, required: false) ?? UnexpectedCode.Reject;
        if (c.TryGetProperty("onUnexpected", out _) && type != ColumnType.Code)
        {
            problems.Add($"{path}.onUnexpected", "Only code columns take onUnexpected.", "Remove \"onUnexpected\" or set \"type\": \"code\".");
        }

        if (rule == ColumnRule.EncryptGeography)
        {
            if (type is not (ColumnType.String or ColumnType.Code))
            {
                problems.Add($"{path}.type", "A geography column must be a string or code column.", "Set \"type\": \"string\".");
            }

            if (maxLength is null or > MaxEncryptedBytes)
            {
                problems.Add($"{path}.maxLength", $"Encrypted geographies are single AES blocks: at most {MaxEncryptedBytes} characters.", $"Set \"maxLength\" to the code length (e.g. 9 for LSOA11), at most {MaxEncryptedBytes}.");
            }
        }

        return new ColumnSpec(name, type, rule, output, required, maxLength, min, max, format, labels, generalisation, width, topCode, description, onUnexpected);
    }

    private static (Generalisation, int, int?) BuildGeneralise(JsonElement c, string path, ColumnType type, ColumnRule rule, Problems problems)
    {
        bool has = c.TryGetProperty("generalise", out var g);
        if (rule != ColumnRule.Generalise)
        {
            if (has)
            {
                problems.Add($"{path}.generalise", "Only columns with rule \"generalise\" take a generalise block.", "Remove it or set \"rule\": \"generalise\".");
            }

            return (Generalisation.None, 0, null);
        }

        string gp = $"{path}.generalise";
        if (!has || g.ValueKind != JsonValueKind.Object)
        {
            problems.Add(gp, "A generalised column must say how.", "Add \"generalise\": { \"to\": \"month\" } for dates or { \"to\": \"band\", \"width\": 5 } for integers.");
            return (Generalisation.None, 0, null);
        }

        problems.UnknownProperties(g, gp, GeneraliseProps);
        var to = problems.Choice(g, gp, "to", new Dictionary<string, Generalisation>(StringComparer.Ordinal) { ["month"] = Generalisation.Month, ["year"] = Generalisation.Year, ["band"] = Generalisation.Band }, required: true);
        int width = problems.Int32(g, gp, "width", required: to == Generalisation.Band) ?? 0;
        int? top = problems.Int32(g, gp, "topCode", required: false);
        if (to is Generalisation.Month or Generalisation.Year && type != ColumnType.Date)
        {
            problems.Add($"{gp}.to", $"'{to.ToString()!.ToLowerInvariant()}' generalises dates, but this column is {type.ToString().ToLowerInvariant()}.", "Use \"band\" for integers, or set \"type\": \"date\".");
        }

        if (to == Generalisation.Band && (type != ColumnType.Integer || width < 2))
        {
            problems.Add(gp, "Bands need an integer column and a width of at least 2.", "Set \"type\": \"integer\" and \"width\": 5 (for example).");
        }

        return (to ?? Generalisation.None, width, top);
    }

    private static void CheckColumnSet(List<ColumnSpec> columns, string keyColumn, DatasetKind kind, KeyScheme keyScheme, Problems problems)
    {
        foreach (var dup in columns.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            problems.Add("$.columns", $"Column '{dup.Key}' is listed {dup.Count()} times (names are compared ignoring case).", "List each input column once.");
        }

        foreach (var dup in columns.Where(c => c.IsOutput).GroupBy(c => c.OutputName, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            problems.Add("$.columns", $"Output column '{dup.Key}' is produced by {dup.Count()} columns.", "Give each kept column a distinct \"output\" name.");
        }

        var ids = columns.Where(c => c.Rule == ColumnRule.EncryptId).ToList();
        if (kind == DatasetKind.Reference)
        {
            if (ids.Count > 0)
            {
                problems.Add("$.columns", "A reference dataset has no person key, but a column has rule \"encrypt-id\".", "Give that column another rule (a place code: \"encrypt-geography\"), or set \"kind\": \"participant\".");
            }

            var key = columns.FirstOrDefault(c => c.Name == keyColumn);
            if (keyColumn.Length > 0 && (key is null || !key.IsOutput))
            {
                problems.Add("$.keyColumn", $"keyColumn '{keyColumn}' must name an output column of this reference dataset.", "Name the reference key column, e.g. the encrypt-geography LSOA column.");
            }

            return;
        }

        if (keyScheme == KeyScheme.SdePatientKey && ids.Count == 1 && ids[0].MaxLength is > MaxEncryptedBytes)
        {
            problems.Add($"$.columns[{columns.IndexOf(ids[0])}].maxLength", $"SDE patient keys are encrypted as one AES block: the key column's maxLength must be at most {MaxEncryptedBytes}.", $"Set \"maxLength\" to at most {MaxEncryptedBytes} or leave it out.");
        }

        if (ids.Count != 1)
        {
            problems.Add("$.columns", $"Exactly one column must have rule \"encrypt-id\" (found {ids.Count}).", "Give the key column (the TTP-encrypted id) \"rule\": \"encrypt-id\".");
        }

        if (keyColumn.Length > 0 && (ids.Count != 1 || ids[0].Name != keyColumn))
        {
            problems.Add("$.keyColumn", $"keyColumn '{keyColumn}' must name the column whose rule is \"encrypt-id\".", "Make keyColumn and the encrypt-id column agree.");
        }
    }

    private static (PermissionChecks, PermissionFlags, bool, PermissionFlags, GeographyWhenMissing) BuildPermissions(JsonElement root, List<ColumnSpec> columns, DatasetKind kind, KeyScheme keyScheme, Problems problems)
    {
        bool hasGeography = columns.Any(c => c.Rule == ColumnRule.EncryptGeography);
        if (!root.TryGetProperty("permissions", out var p) || p.ValueKind != JsonValueKind.Object)
        {
            problems.Add("$.permissions", "The spec must say which permissions a participant needs.", "Add \"permissions\": { \"required\": [\"NhsE\"], \"nationalOptOutApplies\": true }, or { \"checks\": \"none\" } where no UK LLC flag applies.");
            return default;
        }

        problems.UnknownProperties(p, "$.permissions", PermissionProps);
        var chosen = problems.Choice(p, "$.permissions", "checks", Checks, required: false);
        var checks = chosen ?? PermissionChecks.Ukllc;
        if (checks == PermissionChecks.None)
        {
            return NoChecks(p, kind, keyScheme, problems);
        }

        bool checksUnreadable = chosen is null && p.TryGetProperty("checks", out _);
        if (!checksUnreadable && (kind == DatasetKind.Reference || keyScheme == KeyScheme.SdePatientKey))
        {
            problems.Add("$.permissions.checks", kind == DatasetKind.Reference
                ? "A reference dataset has no people, so no UK LLC permission check can apply."
                : "SDE patient keys are not in the UK LLC permission snapshots, so UK LLC checks would drop every row.", "Set \"checks\": \"none\".");
        }
        var required = PermissionFlags.None;
        if (!p.TryGetProperty("required", out var r) || r.ValueKind != JsonValueKind.Array)
        {
            problems.Add("$.permissions.required", "List the permission flags a participant needs (an empty list is allowed).", $"Use names from: {string.Join(", ", FlagNames)}.");
        }
        else
        {
            int i = 0;
            foreach (var f in r.EnumerateArray())
            {
                required |= problems.Flag(f, $"$.permissions.required[{i++}]");
            }
        }

        bool? optOut = problems.Bool(p, "$.permissions", "nationalOptOutApplies");
        if (optOut is null)
        {
            problems.Add("$.permissions.nationalOptOutApplies", "Say whether the national data opt-out applies to this dataset.", "Add \"nationalOptOutApplies\": true for NHS data, false otherwise.");
        }

        var geoFlag = PermissionFlags.None;
        var missing = GeographyWhenMissing.Blank;
        if (p.TryGetProperty("geography", out var g) && g.ValueKind == JsonValueKind.Object)
        {
            problems.UnknownProperties(g, "$.permissions.geography", GeographyProps);
            if (g.TryGetProperty("flag", out var flag))
            {
                geoFlag = problems.Flag(flag, "$.permissions.geography.flag");
            }
            else
            {
                problems.Add("$.permissions.geography.flag", "Name the flag that permits small-area geography.", "Use \"flag\": \"SmallArea\".");
            }

            missing = problems.Choice(g, "$.permissions.geography", "whenMissing", new Dictionary<string, GeographyWhenMissing>(StringComparer.Ordinal) { ["blank"] = GeographyWhenMissing.Blank, ["drop-row"] = GeographyWhenMissing.DropRow }, required: true) ?? GeographyWhenMissing.Blank;
            if (!hasGeography)
            {
                problems.Add("$.permissions.geography", "A geography permission is given but no column has rule \"encrypt-geography\".", "Remove the geography block or mark the geography column.");
            }
        }
        else if (hasGeography)
        {
            problems.Add("$.permissions.geography", "The spec encrypts geography but does not say which permission gates it.", "Add \"geography\": { \"flag\": \"SmallArea\", \"whenMissing\": \"blank\" }.");
        }

        return (PermissionChecks.Ukllc, required, optOut ?? true, geoFlag, missing);
    }

    /// <summary>checks: none — no flag may be asked for, since nothing would check it.</summary>
    private static (PermissionChecks, PermissionFlags, bool, PermissionFlags, GeographyWhenMissing) NoChecks(JsonElement p, DatasetKind kind, KeyScheme keyScheme, Problems problems)
    {
        if (kind == DatasetKind.Participant && keyScheme == KeyScheme.UkllcTtpToken)
        {
            problems.Add("$.permissions.checks", "TTP tokens identify UK LLC participants, whose permissions must be checked.", "Use \"checks\": \"ukllc\" (the default), or another keyScheme for data outside UK LLC.");
        }

        if (p.TryGetProperty("required", out var r) && (r.ValueKind != JsonValueKind.Array || r.GetArrayLength() > 0))
        {
            problems.Add("$.permissions.required", "With \"checks\": \"none\" no permission flag is checked, so none can be required.", "Remove \"required\" or make it [].");
        }

        if (problems.Bool(p, "$.permissions", "nationalOptOutApplies") is true)
        {
            problems.Add("$.permissions.nationalOptOutApplies", "With \"checks\": \"none\" the national opt-out flag is not checked.", "Remove it or set it to false (or use \"checks\": \"ukllc\").");
        }

        if (p.TryGetProperty("geography", out _))
        {
            problems.Add("$.permissions.geography", "With \"checks\": \"none\" no geography permission is checked: geography is always encrypted, never blanked.", "Remove the geography block.");
        }

        return (PermissionChecks.None, PermissionFlags.None, false, PermissionFlags.None, GeographyWhenMissing.Blank);
    }

    private static (List<int>, List<IReadOnlyList<MarginalDimension>>) BuildRisk(JsonElement root, List<ColumnSpec> columns, Problems problems)
    {
        var qis = new List<int>();
        var marginals = new List<IReadOnlyList<MarginalDimension>>();
        if (!root.TryGetProperty("risk", out var risk))
        {
            return (qis, marginals);
        }

        if (risk.ValueKind != JsonValueKind.Object)
        {
            problems.Add("$.risk", "risk must be an object.", "Write \"risk\": { \"quasiIdentifiers\": [...], \"marginals\": [[...]] }.");
            return (qis, marginals);
        }

        problems.UnknownProperties(risk, "$.risk", RiskProps);
        if (risk.TryGetProperty("quasiIdentifiers", out var q) && q.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var e in q.EnumerateArray())
            {
                string path = $"$.risk.quasiIdentifiers[{i++}]";
                int index = ColumnIndex(e, path, columns, problems);
                if (index >= 0)
                {
                    if (!columns[index].IsOutput || columns[index].Rule == ColumnRule.EncryptId)
                    {
                        problems.Add(path, $"'{columns[index].Name}' cannot be a quasi-identifier: it is excluded or is the person key.", "List only output columns other than the key.");
                    }
                    else
                    {
                        qis.Add(index);
                    }
                }
            }
        }

        if (risk.TryGetProperty("marginals", out var m) && m.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var marginal in m.EnumerateArray())
            {
                string path = $"$.risk.marginals[{i++}]";
                if (marginal.ValueKind != JsonValueKind.Array || marginal.GetArrayLength() == 0)
                {
                    problems.Add(path, "A marginal is a non-empty list of column names.", "Write e.g. [\"origin\", \"record_date:year\"].");
                    continue;
                }

                var dims = new List<MarginalDimension>();
                int j = 0;
                foreach (var d in marginal.EnumerateArray())
                {
                    string dp = $"{path}[{j++}]";
                    string text = d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
                    string[] parts = text.Split(':');
                    var granularity = parts.Length == 2 ? parts[1] switch { "year" => Generalisation.Year, "month" => Generalisation.Month, _ => Generalisation.Band } : Generalisation.None;
                    int index = columns.FindIndex(c => c.Name == parts[0]);
                    if (index < 0 || parts.Length > 2 || granularity == Generalisation.Band)
                    {
                        problems.Add(dp, $"'{text}' is not a column name, optionally with :year or :month.", "Use an input column name from $.columns, e.g. \"origin\" or \"record_date:year\".");
                        continue;
                    }

                    var col = columns[index];
                    if (!col.IsOutput || col.Rule is ColumnRule.EncryptId or ColumnRule.EncryptGeography)
                    {
                        problems.Add(dp, $"'{col.Name}' cannot be a marginal dimension: the risk report names cell values, and this column is excluded or encrypted.", "Use it as a quasi-identifier instead.");
                    }
                    else if (granularity != Generalisation.None && col.Type != ColumnType.Date)
                    {
                        problems.Add(dp, $"':{parts[1]}' applies to date columns; '{col.Name}' is not a date.", "Drop the suffix.");
                    }
                    else if (granularity == Generalisation.Month && col.Rule == ColumnRule.Generalise && col.Generalisation == Generalisation.Year)
                    {
                        // The report would then show months of a column that is published as years only.
                        problems.Add(dp, $"'{col.Name}' is published as years, so the risk report cannot use its months.", $"Use \"{col.Name}\" or \"{col.Name}:year\".");
                    }
                    else
                    {
                        dims.Add(new MarginalDimension(index, granularity));
                    }
                }

                marginals.Add(dims);
            }
        }

        return (qis, marginals);
    }

    private static int ColumnIndex(JsonElement e, string path, List<ColumnSpec> columns, Problems problems)
    {
        string name = e.ValueKind == JsonValueKind.String ? e.GetString()! : "";
        int index = columns.FindIndex(c => c.Name == name);
        if (index < 0)
        {
            problems.Add(path, $"'{name}' is not a column of this spec.", "Use an input column name from $.columns.");
        }

        return index;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{2,63}$")]
    private static partial Regex DatasetIdPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ColumnNamePattern();
}
