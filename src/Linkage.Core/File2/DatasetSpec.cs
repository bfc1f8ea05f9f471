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
    string Description)
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
    string CitationPrefix,
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
    public int KeyColumnIndex => Columns.ToList().FindIndex(c => c.Rule == ColumnRule.EncryptId);
}
