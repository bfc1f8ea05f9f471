using System.Text.Json.Serialization;

namespace Linkage.Functions.Catalogue;

/// <summary>
/// Whether a committed version may be used (decision 0605). A version whose disclosure-risk report flags nothing is
/// released at commit; one with flagged risks waits for reviewers; only a released version is current or provisionable.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReleaseState>))]
public enum ReleaseState
{
    /// <summary>Flagged risks: waits for the disclosure review. Not current, not provisionable.</summary>
    AwaitingReview,

    /// <summary>Released: automatically (nothing flagged) or by enough approvals. The highest released version is current.</summary>
    Released,

    /// <summary>A reviewer rejected it: it is never released; the data owner is asked for a new delivery.</summary>
    ReviewRejected,
}

/// <summary>What a reviewer decided.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReviewVerdict>))]
public enum ReviewVerdict
{
    Approve,
    Reject,

    /// <summary>Not a reviewer's: the system released a version whose report flagged nothing.</summary>
    Automatic,
}

/// <summary>One decision on a version, kept on its record in order. Subjects are token subjects, never identifiers of participants.</summary>
public sealed record ReviewDecision
{
    public required ReviewVerdict Verdict { get; init; }

    public required string Subject { get; init; }

    public required string Name { get; init; }

    public required DateTimeOffset At { get; init; }

    public string? Notes { get; init; }

    /// <summary>Flagged items (ids from the risk answer) the reviewer accepts as they are.</summary>
    public IReadOnlyList<string> AcceptedItems { get; init; } = [];

    /// <summary>Small cells (ids from the risk answer) that must be suppressed wherever the version is provisioned.</summary>
    public IReadOnlyList<string> SuppressCells { get; init; } = [];
}

/// <summary>A small cell reviewers require suppressed: the marginal and the cell as the risk report names them.</summary>
public sealed record SuppressedCell(string Item, string Marginal, string Cell);

/// <summary>A flagged item of a version's disclosure-risk report, with the id reviewers refer to it by.</summary>
public sealed record FlaggedItem(string Id, string Kind, string Description);
