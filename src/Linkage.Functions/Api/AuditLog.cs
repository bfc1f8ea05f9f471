using System.Net;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Api;

/// <summary>One audited call: who (token subject and name, role used), what (action, target), when, and how it ended.</summary>
public sealed record AuditEntry
{
    public required string Id { get; init; }

    /// <summary>What was acted on, e.g. <c>delivery/&lt;id&gt;</c> (also the partition key, so a target's history is one query).</summary>
    public required string Target { get; init; }

    public required string Action { get; init; }

    public required string Subject { get; init; }

    public required string Name { get; init; }

    public string? Role { get; init; }

    /// <summary>succeeded, failed, denied.</summary>
    public required string Outcome { get; init; }

    public int Status { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>Versions, row counts, instance ids: never an identifier.</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The audit log in Cosmos (container <c>audit</c>, partition <c>/target</c>). Append-only: entries are created with a
/// new id and never replaced or deleted by the app (in Azure the app's role is also kept from deleting, see infra/).
/// </summary>
public sealed class AuditLog(CosmosDatabase database, TimeProvider time)
{
    public const string ContainerId = "audit";

    public Task<AuditEntry> WriteAsync(ApiCaller caller, string? role, string action, string target, string outcome, int status, IReadOnlyDictionary<string, string>? details, CancellationToken cancellationToken) =>
        CreateAsync(Guid.NewGuid().ToString("N"), caller, role, action, target, outcome, status, details, cancellationToken);

    /// <summary>
    /// An entry the system writes for an event that may be recorded again by a re-run step (an automatic release, say):
    /// its id is fixed by the caller, so the second write finds the first and adds nothing.
    /// </summary>
    public async Task WriteOnceAsync(string id, ApiCaller caller, string? role, string action, string target, string outcome, int status, IReadOnlyDictionary<string, string>? details, CancellationToken cancellationToken)
    {
        try
        {
            await CreateAsync(id, caller, role, action, target, outcome, status, details, cancellationToken);
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // Recorded by an earlier run of the same step.
        }
    }

    private async Task<AuditEntry> CreateAsync(string id, ApiCaller caller, string? role, string action, string target, string outcome, int status, IReadOnlyDictionary<string, string>? details, CancellationToken cancellationToken)
    {
        var entry = new AuditEntry
        {
            Id = id,
            Target = target,
            Action = action,
            Subject = caller.Subject,
            Name = caller.Name,
            Role = role,
            Outcome = outcome,
            Status = status,
            At = time.GetUtcNow(),
            Details = details ?? new Dictionary<string, string>(),
        };
        var container = await database.ContainerAsync(ContainerId, "/target", cancellationToken);
        await container.CreateItemAsync(entry, new PartitionKey(entry.Target), cancellationToken: cancellationToken);
        return entry;
    }

    /// <summary>A target's entries, newest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ForTargetAsync(string target, int max, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/target", cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE c.target = @target").WithParameter("@target", target);
        var results = new List<AuditEntry>();
        try
        {
            using var it = container.GetItemQueryIterator<AuditEntry>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(target) });
            while (it.HasMoreResults)
            {
                results.AddRange(await it.ReadNextAsync(cancellationToken));
            }
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        return results.OrderByDescending(e => e.At).Take(max).ToList();
    }
}
