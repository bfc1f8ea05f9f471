using System.Text.Json;
using Linkage.Functions.Hosting;
using Linkage.Functions.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// The delivery workflow's functions: the orchestration and its activities (each hands over to its class, as the
/// Durable Task source generator would), and the handler of the blob trigger's poison queue.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class DeliveryFunctions(DeliveryStore store, DeliveryHolder holder, InboxHandlers handlers, IOptions<ZoneOptions> zones, ILogger<DeliveryFunctions> logger)
{
    /// <summary>The queue the Functions host (and the local host) sends a blob to after its trigger failed too often.</summary>
    public const string PoisonQueue = "webjobs-blobtrigger-poison";

    [Function(nameof(DeliveryOrchestration))]
    public Task<DeliveryResult> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new DeliveryOrchestration().RunAsync(context, context.GetInput<DeliveryWork>()!);

    [Function(RunDeliveryActivity.Name)]
    public Task<AttemptResult> RunDelivery([ActivityTrigger] DeliveryWork work, string instanceId, FunctionContext function)
    {
        var activity = ActivatorUtilities.CreateInstance<RunDeliveryActivity>(function.InstanceServices);
        activity.CancellationToken = function.CancellationToken;
        return activity.RunAsync(new FunctionActivityContext(RunDeliveryActivity.Name, instanceId), work);
    }

    [Function(HoldDeliveryActivity.Name)]
    public Task<DeliveryRecord?> Hold([ActivityTrigger] HoldRequest request, string instanceId, FunctionContext function)
    {
        var activity = ActivatorUtilities.CreateInstance<HoldDeliveryActivity>(function.InstanceServices);
        activity.CancellationToken = function.CancellationToken;
        return activity.RunAsync(new FunctionActivityContext(HoldDeliveryActivity.Name, instanceId), request);
    }

    /// <summary>
    /// A blob whose trigger failed until it was poisoned (storage down for long, say): held like a failed delivery. A
    /// message this app cannot act on is not dropped: the function fails, so it ends on the poison queue's own poison
    /// queue with an error logged. (Each zone's data account, hence its poison queue, is its own; see infra/.)
    /// </summary>
    [Function("PoisonedBlob")]
    public async Task Poisoned([QueueTrigger(PoisonQueue, Connection = "DataStorage")] string message, CancellationToken cancellationToken)
    {
        PoisonMessage? poison;
        try
        {
            poison = JsonSerializer.Deserialize<PoisonMessage>(message);
        }
        catch (JsonException)
        {
            poison = null;
        }

        if (poison is not { ContainerName.Length: > 0, BlobName.Length: > 0, ETag.Length: > 0 })
        {
            logger.LogError("A message on {Queue} is not a blob trigger's poison message ({Length} characters); it is kept for an operator", PoisonQueue, message.Length);
            throw new InvalidOperationException($"Not a blob trigger's poison message; kept on {PoisonQueue}-poison.");
        }

        if (handlers.ZoneOf(poison.ContainerName) is not { } zone || !zones.Value.EnabledZones.Contains(zone))
        {
            logger.LogError("A poisoned blob of {Container} reached an app that does not run its intake (zones {Zones}); it is kept for an operator", poison.ContainerName, zones.Value.Zones);
            throw new InvalidOperationException($"This app does not run the intake of {poison.ContainerName}; the message is kept on {PoisonQueue}-poison.");
        }

        var delivery = new DeliveryRef(poison.ContainerName, poison.BlobName, poison.ETag);
        var record = await store.EnsureAsync(delivery, cancellationToken);
        await holder.HoldAsync(record.Id, generation: null, FailureClass.TriggerFailed, $"The blob trigger {poison.FunctionId} failed on every try.", cancellationToken);
    }

    /// <summary>The poison message's fields, as the Functions host writes them.</summary>
    public sealed record PoisonMessage(string? Type, string? FunctionId, string? BlobType, string? ContainerName, string? BlobName, string? ETag);
}
