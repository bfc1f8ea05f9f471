using System.Text.Json.Serialization;

namespace Linkage.Functions.Provisioning;

/// <summary>Where a project stands. Ended is final: its keys are destroyed and nothing is provisioned to it again.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProjectState>))]
public enum ProjectState
{
    Active,
    Ended,
}

/// <summary>A project (document id <c>project</c> in partition <c>/projectId</c> of container <c>projects</c>).</summary>
public sealed record ProjectDocument
{
    public string Id { get; init; } = "project";

    public required string ProjectId { get; init; }

    public required string Title { get; init; }

    /// <summary>Study codes whose participants the project may receive.</summary>
    public required IReadOnlyList<string> Studies { get; init; }

    /// <summary>Dataset ids the project receives (the LSOA11 mappings dataset is always among them, seed 000).</summary>
    public required IReadOnlyList<string> Datasets { get; init; }

    public required DateOnly EndDate { get; init; }

    public ProjectState State { get; init; } = ProjectState.Active;

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Token subject of the admin who created it (audit has the rest).</summary>
    public string? CreatedBy { get; init; }

    /// <summary>When the cohort was frozen (first provisioning, decision 0701); null before.</summary>
    public DateTimeOffset? CohortFrozenAt { get; init; }

    public int? CohortSize { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>When the ended project's files are deleted (Provisioning:RetainDays after its end).</summary>
    public DateTimeOffset? DeleteFilesAfter { get; init; }

    public bool FilesDeleted { get; init; }

    /// <summary>Provisioning runs started; the next run's workflow is <c>provision-&lt;project&gt;-&lt;n&gt;</c>.</summary>
    public int ProvisionRuns { get; init; }
}

/// <summary>
/// A provisioned file, committed by this record (document id <c>file-&lt;dataset&gt;-v&lt;NNNN&gt;</c>): what a project
/// sees in <c>GET /api/projects/{id}/files</c>. No token, no identifier: names, counts, versions.
/// </summary>
public sealed record ProjectFileDocument
{
    public required string Id { get; init; }

    public required string ProjectId { get; init; }

    public required string Name { get; init; }

    public required string DatasetId { get; init; }

    public required int Version { get; init; }

    public required DateOnly VersionDate { get; init; }

    public long Rows { get; init; }

    /// <summary>Rows kept from the project's previous file of the dataset (people no longer permitted, decision 0701).</summary>
    public long RowsRetained { get; init; }

    public long? Participants { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public string? IdKeyVersion { get; init; }

    public string? GeographyKeyVersion { get; init; }

    public string? Sha256 { get; init; }

    /// <summary>Cells the reviewers required suppressed, applied to this file (decision 0702); empty when none.</summary>
    public IReadOnlyList<ProjectFileSuppression> Suppressions { get; init; } = [];

    /// <summary>Rows with values blanked by suppression; null when there were none to suppress or fewer than 10 (0–9, never stored: decision 0507).</summary>
    public long? RowsSuppressed { get; init; }

    public static string IdFor(string datasetId, int version) => $"file-{datasetId}-v{version:D4}";
}

/// <summary>A suppressed cell as the risk report names it, and the file's rows in it: null when fewer than 10 (0–9 never leave the TRE, decision 0507).</summary>
public sealed record ProjectFileSuppression(string Item, string Marginal, string Cell, long? Rows);

/// <summary>Counts under 10, 0 included, are never stored where a reader sees them (decision 0507; the domain's rule).</summary>
public static class SmallCounts
{
    public const int Threshold = 10;

    public static long? Mask(long count) => count < Threshold ? null : count;
}
