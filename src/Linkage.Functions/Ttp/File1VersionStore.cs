using System.Net;
using System.Text.Json.Serialization;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Ttp;

/// <summary>Where a File 1 stands in the TTP's commit protocol (stored as its name).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<File1VersionState>))]
public enum File1VersionState
{
    /// <summary>Refused, with its report; nothing of it is in force.</summary>
    Rejected,

    /// <summary>Decided: its outputs are staged and named by this record; the publish steps (registry, links, manifests, archive) may still be under way, and any run of the study finishes them.</summary>
    Committed,

    /// <summary>Committed and published: in force everywhere.</summary>
    Accepted,
}

/// <summary>One processed File 1 (accepted or rejected): the TTP's record of what came in and what went out.</summary>
public sealed record File1VersionRecord
{
    public required string Id { get; init; }

    public required string Study { get; init; }

    public int? Version { get; init; }

    public required string FileName { get; init; }

    public DateOnly? FileDate { get; init; }

    public required string SourceBlob { get; init; }

    public required string SourceETag { get; init; }

    public required File1VersionState State { get; init; }

    /// <summary>Committed or Accepted: the file is decided and its outputs are the study's (even if publishing is unfinished).</summary>
    [JsonIgnore]
    public bool IsCommitted => State is File1VersionState.Committed or File1VersionState.Accepted;

    public long Rows { get; init; }

    public long Participants { get; init; }

    public long Errors { get; init; }

    public long Warnings { get; init; }

    public string? TokenKeyVersion { get; init; }

    /// <summary>SHA-256 of the delivered file its outputs were made from: a re-upload of the same bytes changes nothing.</summary>
    public string? SourceSha256 { get; init; }

    /// <summary>Output paths (<c>container/name</c>) by kind, for operators and tests.</summary>
    public IReadOnlyDictionary<string, string> Outputs { get; init; } = new Dictionary<string, string>();

    /// <summary>The staged outputs this record commits, with length and SHA-256: what the publish step and manifests name.</summary>
    public IReadOnlyDictionary<string, Linkage.Ttp.ManifestFile> Files { get; init; } = new Dictionary<string, Linkage.Ttp.ManifestFile>();

    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();

    /// <summary>How long each phase took (operators' view of where the time goes).</summary>
    public IReadOnlyDictionary<string, double> Seconds { get; init; } = new Dictionary<string, double>();

    /// <summary>When it was committed (or rejected).</summary>
    public DateTimeOffset ProcessedAt { get; init; }

    /// <summary>When its publish steps finished (state Accepted).</summary>
    public DateTimeOffset? PublishedAt { get; init; }

    /// <summary>
    /// Which national opt-out list (<see cref="Linkage.Ttp.NationalOptOutList.Fingerprint"/>) its current files were made
    /// with; null when none was (no s251 participant, or made before lists were fingerprinted).
    /// </summary>
    public string? OptOutList { get; init; }

    /// <summary>0 as delivered; n after the n-th re-application of a newer national opt-out list (decision 0801). <see cref="Files"/> are always the newest revision's.</summary>
    public int Revision { get; init; }

    /// <summary>
    /// Every revision of the file once it has more than one, oldest first (revision 0 is the file as delivered): the
    /// files each wrote and what its delta changed. Kept so that nothing a quarter delivered is ever withdrawn, and so the
    /// quarter sends each revision's delta exactly once.
    /// </summary>
    public IReadOnlyList<File1Revision> Revisions { get; init; } = [];

    /// <summary>Each revision's files and counts, oldest first: <see cref="Revisions"/>, or the record itself when it was never revised.</summary>
    public IReadOnlyList<File1Revision> AllRevisions() =>
        Revisions.Count > 0 ? Revisions : [new File1Revision(0, null, ProcessedAt, OptOutList, Files, Counts)];
}

/// <summary>
/// One revision of an accepted File 1 version: 0 as first accepted; n &gt; 0 made by the quarterly cycle
/// <see cref="Cycle"/> when it re-applied a newer national opt-out list, or (no cycle) by a corrected file re-sent under
/// the version's name. <see cref="Files"/> are what it wrote, every output under its own names (decision 0801).
/// </summary>
public sealed record File1Revision(
    int Revision,
    string? Cycle,
    DateTimeOffset At,
    string? OptOutList,
    IReadOnlyDictionary<string, Linkage.Ttp.ManifestFile> Files,
    IReadOnlyDictionary<string, long> Counts);

/// <summary>The TTP's File 1 versions in Cosmos (container <c>ttp-file1-versions</c>, partition <c>/study</c>).</summary>
public sealed class File1VersionStore(CosmosDatabase database)
{
    public const string ContainerId = "ttp-file1-versions";

    public static string IdFor(string study, int version) => $"{study}-v{version}";

    public async Task<File1VersionRecord?> GetAsync(string study, string id, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        try
        {
            return (await container.ReadItemAsync<File1VersionRecord>(id, new PartitionKey(study), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<File1VersionRecord> UpsertAsync(File1VersionRecord record, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        await container.UpsertItemAsync(record, new PartitionKey(record.Study), cancellationToken: cancellationToken);
        return record;
    }

    /// <summary>Every record of the study (committed, accepted and rejected deliveries), oldest processed first.</summary>
    public async Task<IReadOnlyList<File1VersionRecord>> AllAsync(string study, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        var results = new List<File1VersionRecord>();
        using var it = container.GetItemQueryIterator<File1VersionRecord>(new QueryDefinition("SELECT * FROM c WHERE c.study = @study").WithParameter("@study", study), requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(study) });
        while (it.HasMoreResults)
        {
            results.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return results.OrderBy(r => r.ProcessedAt).ToList();
    }

    /// <summary>The study's committed versions (Committed or Accepted), oldest first.</summary>
    public async Task<IReadOnlyList<File1VersionRecord>> AcceptedAsync(string study, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE c.study = @study AND (c.state = 'Accepted' OR c.state = 'Committed')").WithParameter("@study", study);
        var results = new List<File1VersionRecord>();
        using var it = container.GetItemQueryIterator<File1VersionRecord>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(study) });
        while (it.HasMoreResults)
        {
            results.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return results.Where(r => r.Version is not null).OrderBy(r => r.Version).ToList();
    }
}
