using System.Globalization;
using Linkage.File2;
using Linkage.Functions.Processor;

namespace Linkage.Functions.Catalogue;

/// <summary>A row of a dataset's version history (seed 000's table): only released versions are in it.</summary>
public sealed record VersionHistoryRow(int Version, DateOnly VersionDate, int Variables, long Observations, long? Participants, TemporalCoverage? TemporalCoverage, string? Doi, ChangeLog ChangeLog);

/// <summary>
/// What changed against the previous released version: computed from the two versions' records, never typed. Counts
/// of rows about few people leave the TRE only when they are 10 or more (decision 0507): smaller ones are left out of
/// the dictionaries and null elsewhere, and <see cref="SuppressedBelow"/> says so.
/// </summary>
public sealed record ChangeLog(
    int? PreviousVersion,
    long ObservationsChange,
    IReadOnlyList<string> VariablesAdded,
    IReadOnlyList<string> VariablesRemoved,
    IReadOnlyDictionary<string, long> RowsDropped,
    IReadOnlyDictionary<string, long> RowsDroppedChange,
    long? RowsRejected,
    IReadOnlyDictionary<string, long> UnexpectedCodes,
    string Summary)
{
    public int SuppressedBelow => CatalogueViews.SmallCount;
}

/// <summary>The citation of a dataset version: APA text with the DOI when one is registered, and says so when none is.</summary>
public sealed record Citation(string Text, string? Doi, string DoiStatus);

/// <summary>
/// Builds the catalogue's answers from the dataset spec (descriptive facts as published), the committed version records
/// (computed facts: participants, coverage, counts) and the configured DOIs.
/// </summary>
public static class CatalogueViews
{
    /// <summary>Counts from 1 to this minus one are not published (the disclosure-risk threshold, decision 0507).</summary>
    public const int SmallCount = 10;

    /// <summary>A count as the catalogue may publish it: null when it is from 1 to 9.</summary>
    public static long? Mask(long? count) => count is { } c && c != 0 && Math.Abs(c) < SmallCount ? null : count;

    private static Dictionary<string, long> MaskAll(IEnumerable<KeyValuePair<string, long>> counts) =>
        counts.Where(c => c.Value != 0 && Mask(c.Value) is not null).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    public static IReadOnlyList<VersionHistoryRow> History(IReadOnlyList<DatasetVersionDocument> released, CatalogueOptions options)
    {
        var rows = new List<VersionHistoryRow>();
        DatasetVersionDocument? previous = null;
        foreach (var v in released.OrderBy(v => v.Version))
        {
            rows.Add(new VersionHistoryRow(v.Version, v.VersionDate, v.VariableCount, v.ObservationCount, Mask(v.ParticipantCount), v.TemporalCoverage, options.VersionDoi(v.DatasetId, v.Version), Changes(previous, v)));
            previous = v;
        }

        return rows;
    }

    public static ChangeLog Changes(DatasetVersionDocument? previous, DatasetVersionDocument current)
    {
        var names = current.Variables.Select(x => x.Name).ToList();
        var before = previous?.Variables.Select(x => x.Name).ToList() ?? [];
        var added = previous is null ? [] : names.Except(before, StringComparer.Ordinal).ToList();
        var removed = previous is null ? [] : before.Except(names, StringComparer.Ordinal).ToList();
        var dropped = MaskAll(current.RowsDropped);
        var droppedChange = previous is null ? new Dictionary<string, long>() : MaskAll(current.RowsDropped.Keys.Union(previous.RowsDropped.Keys)
            .Select(k => KeyValuePair.Create(k, current.RowsDropped.GetValueOrDefault(k) - previous.RowsDropped.GetValueOrDefault(k))));
        var unexpected = MaskAll(current.UnexpectedCodes);
        long? rejected = Mask(current.RowsRejected);
        long observationsChange = current.ObservationCount - (previous?.ObservationCount ?? 0);
        var parts = new List<string>
        {
            previous is null
                ? string.Create(CultureInfo.InvariantCulture, $"First version: {current.ObservationCount:N0} observations of {current.VariableCount} variables")
                : string.Create(CultureInfo.InvariantCulture, $"{observationsChange:+#,0;-#,0;0} observations against v{previous.Version} ({current.ObservationCount:N0})"),
        };
        if (added.Count > 0)
        {
            parts.Add($"variables added: {string.Join(", ", added)}");
        }

        if (removed.Count > 0)
        {
            parts.Add($"variables removed: {string.Join(", ", removed)}");
        }

        if (previous is not null && added.Count == 0 && removed.Count == 0)
        {
            parts.Add("no variable changes");
        }

        if (dropped.Count > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"rows dropped: {string.Join(", ", dropped.Select(d => $"{d.Key} {d.Value:N0}"))}"));
        }

        if (rejected is > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{rejected:N0} invalid rows rejected"));
        }

        if (unexpected.Count > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"unexpected codes kept: {string.Join(", ", unexpected.Select(u => $"{u.Key} {u.Value:N0}"))}"));
        }

        return new ChangeLog(previous?.Version, observationsChange, added, removed, dropped, droppedChange, rejected, unexpected, string.Join("; ", parts) + ".");
    }

    /// <summary>APA: Author. (Year). Title. Publisher. https://doi.org/DOI — as seed 000 shows it; no DOI is invented.</summary>
    public static Citation CitationOf(DatasetSpec spec, DatasetVersionDocument? version, CatalogueOptions options)
    {
        string author = spec.Catalogue.Citation?.Author ?? spec.Owner;
        string publisher = spec.Catalogue.Citation?.Publisher ?? spec.Owner;
        string year = version is null ? "n.d." : version.VersionDate.Year.ToString(CultureInfo.InvariantCulture);
        string text = $"{author}. ({year}). {spec.Title}. {publisher}.";
        string? doi = version is null ? null : options.VersionDoi(spec.DatasetId, version.Version);
        if (doi is not null)
        {
            return new Citation($"{text} https://doi.org/{doi}", doi, "registered");
        }

        string? datasetDoi = options.DatasetDoi(spec.DatasetId);
        return datasetDoi is not null
            ? new Citation($"{text} https://doi.org/{datasetDoi}", datasetDoi, version is null ? "dataset DOI (no version released)" : $"dataset DOI (no DOI is configured for version {version.Version})")
            : new Citation($"{text} No DOI has been registered for this dataset.", null, "not configured");
    }

    /// <summary>The variables of a version: output names, descriptions, types, rules and value labels.</summary>
    public static IEnumerable<object> Variables(DatasetVersionDocument version) =>
        version.Variables.Select(v => new { name = v.Name, description = v.Description, type = v.Type, rule = v.Rule, sourceColumn = v.SourceColumn, valueLabels = v.Labels });

    public static string KindName(DatasetKind kind) => kind == DatasetKind.Reference ? "reference" : "participant";
}
