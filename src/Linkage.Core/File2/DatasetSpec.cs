using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>Input value types a dataset spec can declare.</summary>
public enum ColumnType
{
    String,
    Integer,
    Decimal,
    Date,

    /// <summary>A value from the column's labelled code list.</summary>
    Code,
}

/// <summary>What curation does with a column.</summary>
public enum ColumnRule
{
    Keep,

    /// <summary>The key column: TTP token → TRE token.</summary>
    EncryptId,

    /// <summary>Areas smaller than a region (LSOA, MSOA, data zone …): encrypted with the TRE geography key.</summary>
    EncryptGeography,
    Generalise,
    Exclude,
}

/// <summary>How a <see cref="ColumnRule.Generalise"/> column is coarsened.</summary>
public enum Generalisation
{
    None,

    /// <summary>Date → yyyy-MM.</summary>
    Month,

    /// <summary>Date → yyyy.</summary>
    Year,

    /// <summary>Integer → "lo-hi" band of <see cref="ColumnSpec.BandWidth"/> (e.g. 20-24), top-coded at <see cref="ColumnSpec.BandTopCode"/>.</summary>
    Band,
}

/// <summary>What happens to a row's geography values when the participant lacks the geography permission.</summary>
public enum GeographyWhenMissing
{
    Blank,
    DropRow,
}

/// <summary>Whether a dataset is about people (keyed by a person key) or about places (reference data, no person key).</summary>
public enum DatasetKind
{
    /// <summary>Rows about people, keyed by the <see cref="ColumnRule.EncryptId"/> column.</summary>
    Participant,

    /// <summary>Place-based reference data (e.g. IMD by LSOA11): no person key at all.</summary>
    Reference,
}

/// <summary>What the person key column holds and how curation turns it into a TRE token.</summary>
public enum KeyScheme
{
    /// <summary>22-character TTP tokens, re-encrypted to TRE tokens and looked up in the permission snapshots.</summary>
    UkllcTtpToken,

    /// <summary>London SDE unique patient key (≤ 15 UTF-8 bytes of letters, digits, - and _), encrypted as one AES block with the TRE id cipher.</summary>
    SdePatientKey,

    /// <summary>No person key (reference datasets only).</summary>
    None,
}

/// <summary>Which permission checks curation applies to a row's person.</summary>
public enum PermissionChecks
{
    /// <summary>UK LLC: active, national opt-out, the required flags and the geography flag, from the permission snapshots.</summary>
    Ukllc,

    /// <summary>No UK LLC flag applies: no snapshot lookup, every valid row is kept, geography is always encrypted.</summary>
    None,
}

/// <summary>What curation does with a code column's value that is not in its code list.</summary>
public enum UnexpectedCode
{
    /// <summary>The row is rejected (the default).</summary>
    Reject,

    /// <summary>The row is kept, the value written as (formula-neutralised) text, and counted per column.</summary>
    Warn,
}

/// <summary>A fact as the publisher published it (e.g. Persons 23366 on 2025-12-10).</summary>
public sealed record PublishedCount(string Measure, long Count, string Date, string Source);

/// <summary>Citation parts of a catalogue entry.</summary>
public sealed record CatalogueCitation(string? Author, string? Publisher);

/// <summary>
/// The optional <c>catalogue</c> block of a spec: descriptive facts for the dataset catalogue, as published. Every field
/// is optional; <see cref="Empty"/> when the block is absent.
/// </summary>
public sealed record DatasetCatalogueInfo(
    string? Series,
    IReadOnlyList<string> Keywords,
    string? SpecificRestrictions,
    CatalogueCitation? Citation,
    string? PublishingFrequency,
    string? TemporalCoverageColumn,
    IReadOnlyList<string> SpatialCoverage,
    IReadOnlyList<PublishedCount> Published,
    string? StartDate,
    string? EndDate,
    string? ReleaseDate)
{
    public static DatasetCatalogueInfo Empty { get; } = new(null, [], null, null, null, null, [], [], null, null, null);
}

/// <summary>One input column of a dataset spec.</summary>
public sealed record ColumnSpec(
    string Name,
    ColumnType Type,
    ColumnRule Rule,
    string OutputName,
    bool Required,
    int? MaxLength,
    long? Min,
    long? Max,
    DateFormat? DateFormat,
    IReadOnlyDictionary<string, string> Labels,
    Generalisation Generalisation,
    int BandWidth,
    int? BandTopCode,
    string Description,
    UnexpectedCode OnUnexpected = UnexpectedCode.Reject)
{
    public bool IsOutput => Rule != ColumnRule.Exclude;

    /// <summary>The type researchers see: generalised dates become text months/years, bands become text.</summary>
    public string OutputTypeName => Rule switch
    {
        ColumnRule.EncryptId or ColumnRule.EncryptGeography => "token",
        ColumnRule.Generalise when Generalisation == Generalisation.Month => "month (yyyy-MM)",
        ColumnRule.Generalise when Generalisation == Generalisation.Year => "year (yyyy)",
        ColumnRule.Generalise => "band",
        _ => Type switch
        {
            ColumnType.Date => $"date ({DateFormat?.Pattern})",
            _ => Type.ToString().ToLowerInvariant(),
        },
    };
}

/// <summary>A dimension of a risk marginal: a column, optionally reduced to its year or month.</summary>
public sealed record MarginalDimension(int ColumnIndex, Generalisation Granularity);

/// <summary>A validated dataset spec (docs/formats/dataset-spec.md). Built only by <see cref="DatasetSpecLoader"/>.</summary>
public sealed record DatasetSpec(
    string DatasetId,
    string Title,
    string Owner,
    string Source,
    string KeyColumn,
    IReadOnlyList<ColumnSpec> Columns,
    PermissionFlags RequiredPermissions,
    bool NationalOptOutApplies,
    PermissionFlags GeographyPermission,
    GeographyWhenMissing GeographyWhenMissing,
    IReadOnlyList<int> QuasiIdentifiers,
    IReadOnlyList<IReadOnlyList<MarginalDimension>> Marginals,
    string SourceName,
    string SpecSha256)
{
    /// <summary>The person key column (rule encrypt-id), or -1 for a reference dataset.</summary>
    public int KeyColumnIndex => Columns.ToList().FindIndex(c => c.Rule == ColumnRule.EncryptId);

    public DatasetKind Kind { get; init; } = DatasetKind.Participant;

    public KeyScheme KeyScheme { get; init; } = KeyScheme.UkllcTtpToken;

    public PermissionChecks PermissionChecks { get; init; } = PermissionChecks.Ukllc;

    /// <summary>The legal basis for holding and curating the data (free text, required in the spec).</summary>
    public string LegalBasis { get; init; } = "";

    /// <summary>The spec's description text ("" when absent).</summary>
    public string Description { get; init; } = "";

    /// <summary>The catalogue block; never null (<see cref="DatasetCatalogueInfo.Empty"/> when absent).</summary>
    public DatasetCatalogueInfo Catalogue { get; init; } = DatasetCatalogueInfo.Empty;

    /// <summary>When a new File 2 is expected (spec block <c>refresh</c>): the annual refresh workflow's schedule.</summary>
    public DatasetRefreshSchedule Refresh { get; init; } = DatasetRefreshSchedule.Default;
}
