using System.Text.RegularExpressions;

namespace Linkage.Functions.Catalogue;

/// <summary>
/// Settings of the catalogue (section <c>Catalogue</c>). DOIs are registered by the data owner's publisher, not made up
/// by this app: only configured ones are shown (<c>Catalogue:Datasets:&lt;dataset id&gt;:Doi</c> and
/// <c>…:VersionDois:&lt;version number&gt;</c>); where none is configured the catalogue says so.
/// </summary>
public sealed partial class CatalogueOptions
{
    public const string SectionName = "Catalogue";

    /// <summary>Prefix of a dataset's name in the TRE (seed 000: <c>UKLLC_nhse_lsoa11_dataset_mapping</c>).</summary>
    public string TreNamePrefix { get; set; } = "UKLLC_";

    public Dictionary<string, DatasetCitationOptions> Datasets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The DOI of a version: its own if configured, else none (a dataset-level DOI is not a version's).</summary>
    public string? VersionDoi(string datasetId, int version) =>
        Datasets.TryGetValue(datasetId, out var d) && d.VersionDois.TryGetValue(version.ToString(System.Globalization.CultureInfo.InvariantCulture), out var doi) && !string.IsNullOrWhiteSpace(doi) ? doi.Trim() : null;

    public string? DatasetDoi(string datasetId) =>
        Datasets.TryGetValue(datasetId, out var d) && !string.IsNullOrWhiteSpace(d.Doi) ? d.Doi.Trim() : null;

    /// <summary>Every configured DOI that is not shaped like one (10.prefix/suffix), for start-up validation.</summary>
    public IEnumerable<string> Malformed() =>
        Datasets.SelectMany(d => d.Value.VersionDois.Values.Append(d.Value.Doi ?? "").Where(v => v.Length > 0 && !DoiPattern().IsMatch(v.Trim())).Select(v => $"{d.Key}: '{v}'"));

    [GeneratedRegex(@"^10\.\d{4,9}/\S+$")]
    private static partial Regex DoiPattern();
}

/// <summary>The registered DOIs of one dataset.</summary>
public sealed class DatasetCitationOptions
{
    /// <summary>The dataset's own (concept) DOI, if one is registered.</summary>
    public string? Doi { get; set; }

    /// <summary>Version number → the DOI registered for that version.</summary>
    public Dictionary<string, string> VersionDois { get; set; } = new(StringComparer.Ordinal);
}
