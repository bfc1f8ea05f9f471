using System.Net;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Deliveries;

/// <summary>Delivery documents in Cosmos (container <c>deliveries</c>, partition <c>/id</c>), changed with ETag concurrency.</summary>
public sealed class DeliveryStore(CosmosDatabase database, TimeProvider time)
{
    public const string ContainerId = "deliveries";

    public async Task<DeliveryRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        try
        {
            return (await container.ReadItemAsync<DeliveryRecord>(id, new PartitionKey(id), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The delivery's record, created Pending when the trigger sees the blob version for the first time.</summary>
    public async Task<DeliveryRecord> EnsureAsync(DeliveryRef delivery, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return await UpdateAsync(delivery.Id, current => current ?? new DeliveryRecord
        {
            Id = delivery.Id,
            Inbox = delivery.Inbox,
            BlobName = delivery.BlobName,
            ETag = delivery.ETag,
            State = DeliveryState.Pending,
            InstanceId = delivery.InstanceIdFor(0),
            ReceivedAt = now,
            UpdatedAt = now,
        }, cancellationToken) ?? throw new InvalidOperationException($"Delivery {delivery.Id} could not be recorded.");
    }

    /// <summary>
    /// Counts an attempt of <paramref name="generation"/> before it starts, so one that kills the process is counted too.
    /// Null when the delivery is done, held or re-driven since (every update below is conditional on the generation, so
    /// a re-run activity of an older workflow never changes a newer one's record).
    /// </summary>
    public Task<DeliveryRecord?> BeginAttemptAsync(string id, int generation, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return UpdateAsync(id, r => r is null || r.Generation != generation || r.State is DeliveryState.Completed or DeliveryState.Held
            ? null
            : r with { State = DeliveryState.Running, Attempts = r.Attempts + 1, LastAttemptAt = now, UpdatedAt = now }, cancellationToken);
    }

    public Task<DeliveryRecord?> CompleteAsync(string id, int generation, string outcome, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return UpdateAsync(id, r => r is null || r.Generation != generation || r.State == DeliveryState.Completed
            ? null
            : r with { State = DeliveryState.Completed, Outcome = outcome, LastErrorClass = FailureClass.None, LastError = null, UpdatedAt = now }, cancellationToken);
    }

    public Task<DeliveryRecord?> RecordFailureAsync(string id, int generation, FailureClass failure, string error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return UpdateAsync(id, r => r is null || r.Generation != generation || r.State is DeliveryState.Completed or DeliveryState.Held
            ? null
            : r with { State = DeliveryState.Pending, LastErrorClass = failure, LastError = error, UpdatedAt = now }, cancellationToken);
    }

    /// <summary>Holds <paramref name="generation"/> (null: whichever is current, for the poison queue and the sweep).</summary>
    public Task<DeliveryRecord?> HoldAsync(string id, int? generation, FailureClass failure, string? error, string? providerNote, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return UpdateAsync(id, r => r is null || (generation is { } g && r.Generation != g) || r.State == DeliveryState.Completed
            ? null
            : r with { State = DeliveryState.Held, LastErrorClass = failure, LastError = error ?? r.LastError, ProviderNote = providerNote ?? r.ProviderNote, UpdatedAt = now, HeldAt = r.HeldAt ?? now }, cancellationToken);
    }

    /// <summary>An operator's re-drive: a new generation with a fresh attempt count, and a new workflow instance id.</summary>
    public Task<DeliveryRecord?> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return UpdateAsync(id, r => r is null || r.State == DeliveryState.Completed
            ? null
            : r with { State = DeliveryState.Pending, Generation = r.Generation + 1, InstanceId = r.Ref.InstanceIdFor(r.Generation + 1), Attempts = 0, UpdatedAt = now }, cancellationToken);
    }

    /// <summary>Deliveries in a state, newest first (at most <paramref name="max"/>).</summary>
    public async Task<IReadOnlyList<DeliveryRecord>> ListAsync(DeliveryState? state, int max, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var query = (state is { } s
            ? new QueryDefinition("SELECT TOP @max * FROM c WHERE c.state = @state ORDER BY c.updatedAt DESC").WithParameter("@state", s.ToString())
            : new QueryDefinition("SELECT TOP @max * FROM c ORDER BY c.updatedAt DESC")).WithParameter("@max", max);
        var results = new List<DeliveryRecord>();
        using var it = container.GetItemQueryIterator<DeliveryRecord>(query);
        while (it.HasMoreResults)
        {
            results.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return results.OrderByDescending(r => r.UpdatedAt).Take(max).ToList();
    }

    /// <summary>Deliveries still Pending or Running whose record has not changed since <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<DeliveryRecord>> ListUnfinishedAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var query = new QueryDefinition("SELECT * FROM c WHERE (c.state = 'Pending' OR c.state = 'Running') AND c.updatedAt < @before")
            .WithParameter("@before", System.Text.Json.JsonSerializer.Serialize(before.ToUniversalTime()).Trim('"')); // as the documents spell it
        var results = new List<DeliveryRecord>();
        using var it = container.GetItemQueryIterator<DeliveryRecord>(query);
        while (it.HasMoreResults)
        {
            results.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return results;
    }

    private async Task<DeliveryRecord?> UpdateAsync(string id, Func<DeliveryRecord?, DeliveryRecord?> change, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        DeliveryRecord? written = null;
        await container.UpdateAsync<DeliveryRecord>(id, new PartitionKey(id), current =>
        {
            written = change(current);
            return written;
        }, cancellationToken);
        return written;
    }

    private Task<Container> ContainerAsync(CancellationToken cancellationToken) => database.ContainerAsync(ContainerId, "/id", cancellationToken);
}
