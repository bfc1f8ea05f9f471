using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Linkage.Functions.Deliveries;

/// <summary>Where a delivery stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeliveryState>))]
public enum DeliveryState
{
    /// <summary>Seen by its trigger; its workflow is starting or waiting to try again.</summary>
    Pending,

    /// <summary>An attempt is under way.</summary>
    Running,

    /// <summary>Processed: accepted, rejected with a report, or superseded by a newer upload.</summary>
    Completed,

    /// <summary>Failed every try (or crashed the process too often): kept in the inbox until an operator re-drives it.</summary>
    Held,
}

/// <summary>Why an attempt failed, as far as retrying is concerned.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FailureClass>))]
public enum FailureClass
{
    None,

    /// <summary>Storage, Cosmos, Key Vault or the network failed or throttled: likely to pass.</summary>
    Transient,

    /// <summary>Waiting for something an operator or another file provides: the national opt-out list, a study's lock.</summary>
    Waiting,

    /// <summary>Access was refused or the app is misconfigured: needs an operator, but is retried a few times.</summary>
    Configuration,

    /// <summary>Anything else (a defect): retried a few times, then held.</summary>
    Unexpected,

    /// <summary>Attempts began but never ended (the process died): the file is not tried again automatically.</summary>
    CrashLoop,

    /// <summary>The blob trigger itself failed until the Functions host poisoned the blob.</summary>
    TriggerFailed,

    /// <summary>The delivery's workflow ended (failed, terminated, purged) without finishing it: found by the sweep.</summary>
    WorkflowEnded,
}

/// <summary>One blob version that arrived in an inbox: the unit of work, retry and re-drive.</summary>
/// <param name="Inbox">The container it arrived in.</param>
/// <param name="BlobName">Its name in the container (provider's folder and file name: no identifiers).</param>
/// <param name="ETag">The version.</param>
public sealed record DeliveryRef(string Inbox, string BlobName, string ETag)
{
    /// <summary>Stable id of this blob version: a hash, so ids, URLs and workflow instance ids carry no file content.</summary>
    public string Id => "d" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{Inbox}\n{BlobName}\n{ETag}")))[..24].ToLowerInvariant();

    /// <summary>Whether <paramref name="id"/> has the shape of a delivery id.</summary>
    public static bool IsId(string id) => id.Length == 25 && id[0] == 'd' && id.AsSpan(1).ContainsAnyExcept("0123456789abcdef") is false;

    public string InstanceIdFor(int generation) => generation == 0 ? $"delivery-{Id}" : $"delivery-{Id}-r{generation}";
}

/// <summary>The delivery's document in Cosmos (container <c>deliveries</c>, partition <c>/id</c>).</summary>
public sealed record DeliveryRecord
{
    public required string Id { get; init; }

    public required string Inbox { get; init; }

    public required string BlobName { get; init; }

    public required string ETag { get; init; }

    public DeliveryState State { get; init; }

    /// <summary>Attempts begun in this generation, crashed ones included.</summary>
    public int Attempts { get; init; }

    /// <summary>0 for the trigger's own run, then one more per operator re-drive.</summary>
    public int Generation { get; init; }

    public string InstanceId { get; init; } = "";

    public FailureClass LastErrorClass { get; init; }

    /// <summary>Exception type and first line of its message (no file content).</summary>
    public string? LastError { get; init; }

    /// <summary>What the intake made of it: Accepted, Rejected, Curated, AlreadyProcessed, Superseded…</summary>
    public string? Outcome { get; init; }

    /// <summary>Where the provider's note about a held delivery was written.</summary>
    public string? ProviderNote { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public DateTimeOffset? LastAttemptAt { get; init; }

    public DateTimeOffset? HeldAt { get; init; }

    public DeliveryRef Ref => new(Inbox, BlobName, ETag);
}
