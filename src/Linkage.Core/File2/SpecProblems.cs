using System.Text.Json;
using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>Collects a spec's problems and reads typed properties, recording a problem for each wrong one (used by <see cref="DatasetSpecLoader"/>).</summary>
internal sealed class Problems(string file)
{
    public List<SpecProblem> List { get; } = [];

    public void Add(string path, string problem, string fix) => List.Add(new SpecProblem(file, path, problem, fix));

    public void UnknownProperties(JsonElement element, string path, string[] known, string? datasetId = null)
    {
        foreach (var p in element.EnumerateObject())
        {
            if (path == "$" && p.Name == "citationPrefix")
            {
                // Retired: say where the DOI comes from now, not just which names are known.
                Add("$.citationPrefix", "Unknown property 'citationPrefix': DOIs are no longer part of a dataset spec.", $"Remove it: a dataset's DOI now comes from configuration, Catalogue:Datasets:{(string.IsNullOrEmpty(datasetId) ? "<datasetId>" : datasetId)}:Doi.");
            }
            else if (!known.Contains(p.Name, StringComparer.Ordinal))
            {
                Add($"{path}.{p.Name}", $"Unknown property '{p.Name}'.", $"Remove it or use one of: {string.Join(", ", known)}.");
            }
        }
    }

    public string? Text(JsonElement element, string path, string name, bool required)
    {
        if (!element.TryGetProperty(name, out var v))
        {
            if (required)
            {
                Add($"{path}.{name}", $"'{name}' is missing.", $"Add \"{name}\": \"…\".");
            }

            return null;
        }

        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
        {
            Add($"{path}.{name}", $"'{name}' must be a non-empty string.", $"Write \"{name}\": \"…\".");
            return null;
        }

        return v.GetString();
    }

    /// <summary>A calendar date written yyyy-MM-dd.</summary>
    public string? IsoDate(JsonElement element, string path, string name, bool required)
    {
        string? text = Text(element, path, name, required);
        if (text is not null && !DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
        {
            Add($"{path}.{name}", $"'{text}' is not a date written yyyy-MM-dd.", $"Write \"{name}\": \"2023-03-31\" (for example).");
            return null;
        }

        return text;
    }

    /// <summary>An optional list of non-empty strings (empty when absent).</summary>
    public List<string> TextList(JsonElement element, string path, string name)
    {
        var list = new List<string>();
        if (!element.TryGetProperty(name, out var v))
        {
            return list;
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            Add($"{path}.{name}", $"'{name}' must be a list of strings.", $"Write \"{name}\": [\"…\", \"…\"].");
            return list;
        }

        int i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(e.GetString()))
            {
                Add($"{path}.{name}[{i}]", "Each entry must be a non-empty string.", "Write the text in quotes.");
            }
            else
            {
                list.Add(e.GetString()!);
            }

            i++;
        }

        return list;
    }

    public long? Integer(JsonElement element, string path, string name, bool required)
    {
        if (!element.TryGetProperty(name, out var v))
        {
            if (required)
            {
                Add($"{path}.{name}", $"'{name}' is missing.", $"Add \"{name}\": <whole number>.");
            }

            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n))
        {
            Add($"{path}.{name}", $"'{name}' must be a whole number.", $"Write \"{name}\": 5 (for example), without quotes.");
            return null;
        }

        return n;
    }

    /// <summary>A whole number that must fit 32 bits (lengths, widths, top codes): a larger one is an error, not a wrap.</summary>
    public int? Int32(JsonElement element, string path, string name, bool required)
    {
        long? n = Integer(element, path, name, required);
        if (n is { } value && value is < int.MinValue or > int.MaxValue)
        {
            Add($"{path}.{name}", $"'{name}' is {value}, outside what it can be ({int.MinValue} to {int.MaxValue}).", $"Write a realistic \"{name}\".");
            return null;
        }

        return (int?)n;
    }

    public bool? Bool(JsonElement element, string path, string name)
    {
        if (!element.TryGetProperty(name, out var v))
        {
            return null;
        }

        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Add($"{path}.{name}", $"'{name}' must be true or false.", $"Write \"{name}\": true or false, without quotes.");
            return null;
        }

        return v.GetBoolean();
    }

    public T? Choice<T>(JsonElement element, string path, string name, Dictionary<string, T> choices, bool required)
        where T : struct
    {
        string? text = Text(element, path, name, required);
        if (text is null)
        {
            return null;
        }

        if (choices.TryGetValue(text, out var value))
        {
            return value;
        }

        Add($"{path}.{name}", $"'{text}' is not a valid {name}.", $"Use one of: {string.Join(", ", choices.Keys)}.");
        return null;
    }

    public PermissionFlags Flag(JsonElement e, string path)
    {
        string name = e.ValueKind == JsonValueKind.String ? e.GetString()! : "";
        if (DatasetSpecLoader.FlagNames.Contains(name, StringComparer.Ordinal))
        {
            return Enum.Parse<PermissionFlags>(name);
        }

        Add(path, $"'{name}' is not a permission flag.", $"Use one of: {string.Join(", ", DatasetSpecLoader.FlagNames)} (being active and the national opt-out are always checked).");
        return PermissionFlags.None;
    }

    public Dictionary<string, string> Labels(JsonElement c, string path)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!c.TryGetProperty("labels", out var l))
        {
            return labels;
        }

        if (l.ValueKind != JsonValueKind.Object)
        {
            Add($"{path}.labels", "labels must be an object of value → label.", "Write \"labels\": { \"1\": \"Male\", \"2\": \"Female\" }.");
            return labels;
        }

        foreach (var p in l.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String || p.Name.Length == 0)
            {
                Add($"{path}.labels.{p.Name}", "Each label must be a non-empty value with a string label.", "Write \"VALUE\": \"label text\".");
                continue;
            }

            labels[p.Name] = p.Value.GetString()!;
        }

        return labels;
    }
}
