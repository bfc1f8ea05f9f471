using System.Text.Json.Serialization;
using Linkage.File2;

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

    public required string CitationId { get; init; }

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
}
