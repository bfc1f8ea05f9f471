namespace Linkage.File2;

/// <summary>How a File 2 run ended. Anything but <see cref="Curated"/> means nothing was written to the output.</summary>
public enum File2Outcome
{
    Curated,

    /// <summary>The header does not match the spec (missing, extra or repeated columns).</summary>
    HeaderMismatch,

    /// <summary>Rejected rows exceed the allowed share; the row-level report says which and why.</summary>
    TooManyBadRows,

    /// <summary>A kept column looks like NHS numbers or postcodes: stopped before anything was written.</summary>
    IdentifierColumn,

    /// <summary>The file is not readable CSV/UTF-8 (bad bytes, unterminated quotes, a record too large).</summary>
    Unreadable,

    /// <summary>
    /// A reference (place-based) table whose non-key output columns single out areas: some combination of their values
    /// is shared by fewer than the threshold of areas, which would undo the encryption of the key (e.g. an IMD rank).
    /// Nothing was written; see <see cref="File2Result.PlaceBased"/>.
    /// </summary>
    SinglesOutArea,
}

/// <summary>Why a row was left out of the curated dataset; each has its own count.</summary>
public enum DropReason
{
    /// <summary>The key is not in any permission snapshot.</summary>
    UnknownParticipant,

    /// <summary>UKLLC_STATUS = 0.</summary>
    Withdrawn,

    /// <summary>The dataset is covered by the national data opt-out and the participant opted out.</summary>
    NationalOptOut,

    /// <summary>A permission the dataset requires (e.g. NhsE) is off.</summary>
    DatasetPermission,

    /// <summary>The row carries geography, the participant lacks the geography permission and the spec says drop-row.</summary>
    GeographyPermission,

    /// <summary>An exact copy of an earlier record.</summary>
    Duplicate,
}

/// <summary>One bad row: its line in the file (header = line 1), the column, and why — never the value.</summary>
public sealed record RejectedRow(long Line, string Column, string Reason);

/// <summary>Row counts; <see cref="Reconciles"/> is asserted by the pipeline before it reports success.</summary>
public sealed record File2Counts(
    long RowsIn,
    long RowsWritten,
    long RowsRejected,
    IReadOnlyDictionary<DropReason, long> Dropped,
    long RowsWithGeographyBlanked)
{
    public long RowsDropped => Dropped.Values.Sum();

    public bool Reconciles => RowsIn == RowsWritten + RowsRejected + RowsDropped;
}

/// <summary>What a run did; <see cref="Metadata"/> and <see cref="Risk"/> are present when the outcome is Curated.</summary>
public sealed record File2Result(
    File2Outcome Outcome,
    IReadOnlyList<string> Problems,
    File2Counts Counts,
    IReadOnlyList<RejectedRow> Rejects,
    bool RejectsTruncated,
    IReadOnlyDictionary<string, long> RejectCountsByColumnAndReason,
    CuratedMetadata? Metadata,
    DisclosureRiskReport? Risk,
    File2RunStatistics Statistics)
{
    public bool Succeeded => Outcome == File2Outcome.Curated;

    /// <summary>Distinct people among the rows written (exact); null for reference datasets and runs that wrote nothing.</summary>
    public long? ParticipantCount { get; init; }

    /// <summary>First and last month (yyyy-MM) of the spec's temporal coverage column over the rows written; null when none.</summary>
    public TemporalCoverage? TemporalCoverage { get; init; }

    /// <summary>Per onUnexpected: warn column (output name): values kept that were not in its code list. Never the values.</summary>
    public IReadOnlyDictionary<string, long> UnexpectedCodes { get; init; } = new Dictionary<string, long>();

    /// <summary>For reference datasets: the place-based disclosure check of the output's non-key columns (null otherwise).</summary>
    public Linkage.Provisioning.PlaceBasedDisclosureReport? PlaceBased { get; init; }
}

/// <summary>The span of a dataset's dates, to the month only (no exact date is disclosed): "yyyy-MM" each.</summary>
public sealed record TemporalCoverage(string From, string To);

/// <summary>The computed statistics of a curated run (also in <see cref="CuratedMetadata"/>).</summary>
internal sealed record CuratedStatistics(long? ParticipantCount, TemporalCoverage? TemporalCoverage, IReadOnlyDictionary<string, long> UnexpectedCodes);

/// <summary>How the run used memory and disk (for operators and the benchmark).</summary>
/// <param name="BlankLines">Empty lines skipped: they hold no data, so they are not rows, but their lines still count in line numbers.</param>
public sealed record File2RunStatistics(bool DedupSpilled, bool StageSpilled, int SpillFiles, long IndexEntriesInMemoryCap, double ReadSeconds, double DedupSeconds, double WriteSeconds, long BlankLines = 0);

/// <summary>One output variable with its labels, for the catalogue.</summary>
public sealed record CuratedVariable(string Name, string SourceColumn, string Type, string Rule, string Description, IReadOnlyDictionary<string, string> Labels);

/// <summary>Catalogue facts about a curated version: variables, counts and the key versions the tokens were made with.</summary>
public sealed record CuratedMetadata(
    string DatasetId,
    string Title,
    string Owner,
    string Source,
    string SpecSha256,
    string Format,
    IReadOnlyList<CuratedVariable> Variables,
    long ObservationCount,
    int VariableCount,
    string IdKeyVersion,
    string GeographyKeyVersion,
    IReadOnlyList<string> PermissionSnapshots,
    IReadOnlyList<string> TtpTokenKeyVersions)
{
    /// <summary>"participant" or "reference".</summary>
    public string Kind { get; init; } = "participant";

    /// <summary>"ukllc-ttp-token", "sde-patient-key" or "none".</summary>
    public string KeyScheme { get; init; } = "ukllc-ttp-token";

    /// <summary>"ukllc" or "none".</summary>
    public string PermissionChecks { get; init; } = "ukllc";

    public string LegalBasis { get; init; } = "";

    public string Description { get; init; } = "";

    /// <summary>Distinct people among the rows written; null for reference datasets.</summary>
    public long? ParticipantCount { get; init; }

    /// <summary>First and last month (yyyy-MM) of the temporal coverage column over the rows written; null when none.</summary>
    public TemporalCoverage? TemporalCoverage { get; init; }

    /// <summary>Per warn code column (output name): kept values not in its code list.</summary>
    public IReadOnlyDictionary<string, long> UnexpectedCodes { get; init; } = new Dictionary<string, long>();
}

/// <summary>A cell of a key marginal whose count is under the threshold; the count itself is not reported.</summary>
public sealed record SmallCell(string Marginal, string Cell);

/// <summary>Disclosure-risk findings for a curated version (counts below <see cref="Threshold"/> are masked).</summary>
public sealed record DisclosureRiskReport(
    int Threshold,
    IReadOnlyList<string> Marginals,
    long MarginalCells,
    IReadOnlyList<SmallCell> SmallCells,
    bool SmallCellsTruncated,
    IReadOnlyList<string> QuasiIdentifiers,
    long QuasiIdentifierCombinations,
    long RareCombinations,
    long RecordsInRareCombinations,
    bool RiskTrackingComplete,
    IReadOnlyList<IdentifierLookingColumn> IdentifierLookingColumns)
{
    /// <summary>True when anything needs a curator's review before release.</summary>
    public bool NeedsReview => SmallCells.Count > 0 || RareCombinations > 0 || !RiskTrackingComplete || IdentifierLookingColumns.Count > 0;
}

/// <summary>A kept column with values shaped like NHS numbers or postcodes (counts over the whole file).</summary>
public sealed record IdentifierLookingColumn(string Column, long NhsNumberShaped, long PostcodeShaped, long NonEmpty);
