using System.Net;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Ttp;

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

    /// <summary>Accepted or Rejected.</summary>
    public required string State { get; init; }

    public long Rows { get; init; }

    public long Participants { get; init; }

    public long Errors { get; init; }

    public long Warnings { get; init; }

    public string? TokenKeyVersion { get; init; }

    public IReadOnlyDictionary<string, string> Outputs { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();

    /// <summary>How long each phase took (operators' view of where the time goes).</summary>
    public IReadOnlyDictionary<string, double> Seconds { get; init; } = new Dictionary<string, double>();

    public DateTimeOffset ProcessedAt { get; init; }
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

    public async Task UpsertAsync(File1VersionRecord record, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        await container.UpsertItemAsync(record, new PartitionKey(record.Study), cancellationToken: cancellationToken);
    }

    /// <summary>The study's accepted versions, oldest first.</summary>
    public async Task<IReadOnlyList<File1VersionRecord>> AcceptedAsync(string study, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE c.study = @study AND c.state = 'Accepted'").WithParameter("@study", study);
        var results = new List<File1VersionRecord>();
        using var it = container.GetItemQueryIterator<File1VersionRecord>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(study) });
        while (it.HasMoreResults)
        {
            results.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return results.Where(r => r.Version is not null).OrderBy(r => r.Version).ToList();
    }
}
