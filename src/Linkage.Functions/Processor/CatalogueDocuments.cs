using System.Text.Json.Serialization;
using Linkage.File2;
using Linkage.Functions.Catalogue;

namespace Linkage.Functions.Processor;

/// <summary>Where a dataset version stands. Stored as its name, so documents written as strings still read.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DatasetVersionState>))]
public enum DatasetVersionState
{
    /// <summary>Reserved: an attempt is curating or staging it. Readers never see it.</summary>
    Processing,

    /// <summary>Committed: its record exists and its blobs are the version. The only state readers see.</summary>
    Curated,

    /// <summary>The delivery that reserved the number was rejected; its staged blobs were deleted and the number stays unused.</summary>
    Rejected,
}

/// <summary>A dataset in the catalogue (document id <c>dataset</c> in its partition).</summary>
public sealed record DatasetDocument
{
    public string Id { get; init; } = "dataset";

    public required string DatasetId { get; init; }

    public required string Title { get; init; }

    public required string Owner { get; init; }

    public required string Source { get; init; }

    /// <summary>Highest version number handed out (reserved; some may be processing or rejected).</summary>
    public int LatestVersion { get; init; }

    /// <summary>The highest Curated version: what researchers get. Repaired by every intake run.</summary>
    public int? CurrentVersion { get; init; }
}

/// <summary>
/// The reservation of a version number for one delivery (dataset, source blob, ETag): document id
/// <c>r-&lt;hash of source and ETag&gt;</c>, created with If-None-Match semantics, so every run of one delivery, however
/// many at once, finds the same number. <see cref="VersionDate"/> is fixed here, so retries write the same blob names.
/// </summary>
public sealed record VersionReservationDocument
{
    public required string Id { get; init; }

    public required string DatasetId { get; init; }

    public required string SourceBlob { get; init; }

    public required string SourceETag { get; init; }

    public required int Version { get; init; }

    public required DateOnly VersionDate { get; init; }

    public DatasetVersionState State { get; init; } = DatasetVersionState.Processing;

    public DateTimeOffset? ReservedAt { get; init; }
}

/// <summary>
/// The catalogue record of one version (document id <c>v0001</c>…), written only by the commit step, in state Curated:
/// what came in, what was kept, why rows were dropped, and where its blobs are. A version without it does not exist.
/// </summary>
public sealed record DatasetVersionDocument
{
    public required string Id { get; init; }

    public required string DatasetId { get; init; }

    public required int Version { get; init; }

    public required DatasetVersionState State { get; init; }

    public required DateOnly VersionDate { get; init; }

    public required string SourceBlob { get; init; }

    public required string SourceETag { get; init; }

    public int VariableCount { get; init; }

    public long ObservationCount { get; init; }

    public long RowsIn { get; init; }

    public long RowsRejected { get; init; }

    public IReadOnlyDictionary<string, long> RowsDropped { get; init; } = new Dictionary<string, long>();

    public long RowsWithGeographyBlanked { get; init; }

    public IReadOnlyList<CuratedVariable> Variables { get; init; } = [];

    public string? DataFile { get; init; }

    public string? RiskReport { get; init; }

    public string? MetadataFile { get; init; }

    public string? RejectReport { get; init; }

    public bool RiskNeedsReview { get; init; }

    public string? IdKeyVersion { get; init; }

    public string? GeographyKeyVersion { get; init; }

    public IReadOnlyList<string> PermissionSnapshots { get; init; } = [];

    public string? SpecSha256 { get; init; }

    public DateTimeOffset? CuratedAt { get; init; }

    /// <summary>Distinct people among the version's rows (null for reference data, and for versions curated before it was counted).</summary>
    public long? ParticipantCount { get; init; }

    /// <summary>First and last month of the spec's coverage column over the version's rows.</summary>
    public TemporalCoverage? TemporalCoverage { get; init; }

    /// <summary>Per column, values outside a code list the spec only warns about (counts, never values).</summary>
    public IReadOnlyDictionary<string, long> UnexpectedCodes { get; init; } = new Dictionary<string, long>();

    /// <summary>Token subjects of whoever triggered the delivery (its submitter, operators who re-drove it): they may not review it.</summary>
    public IReadOnlyList<string> TriggeredBy { get; init; } = [];

    /// <summary>Set at commit (decision 0605); null on records committed before the review gate existed (see <see cref="EffectiveRelease"/>).</summary>
    public ReleaseState? Release { get; init; }

    /// <summary>Review decisions in order; an automatic release is one decision too.</summary>
    public IReadOnlyList<ReviewDecision> Reviews { get; init; } = [];

    public DateTimeOffset? ReleasedAt { get; init; }

    /// <summary>Small cells the approving reviewers require suppressed wherever the version is provisioned.</summary>
    public IReadOnlyList<SuppressedCell> Suppressions { get; init; } = [];

    /// <summary>
    /// The release state; a record from before the review gate is released unless its report flagged risks, in which
    /// case it goes to review like a new one (nothing flagged is released without a reviewer).
    /// </summary>
    [JsonIgnore]
    public ReleaseState EffectiveRelease => Release ?? (RiskNeedsReview ? ReleaseState.AwaitingReview : ReleaseState.Released);
}
