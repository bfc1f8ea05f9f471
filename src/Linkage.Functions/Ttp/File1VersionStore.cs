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
}

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
