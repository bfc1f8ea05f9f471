using System.Text.Json;
using Linkage.Functions.Hosting;
using Linkage.Functions.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// The delivery workflow's functions: the orchestration and its activities (each hands over to its class, as the
/// Durable Task source generator would), and the handler of the blob trigger's poison queue.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class DeliveryFunctions(DeliveryStore store, DeliveryHolder holder, ILogger<DeliveryFunctions> logger)
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

    /// <summary>A blob whose trigger failed until it was poisoned (storage down for long, say): held like a failed delivery.</summary>
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
            logger.LogError("A message on {Queue} is not a blob trigger's poison message; left for an operator: {Length} characters", PoisonQueue, message.Length);
            return;
        }

        var delivery = new DeliveryRef(poison.ContainerName, poison.BlobName, poison.ETag);
        var record = await store.EnsureAsync(delivery, cancellationToken);
        await holder.HoldAsync(record.Id, FailureClass.TriggerFailed, $"The blob trigger {poison.FunctionId} failed on every try.", cancellationToken);
    }

    /// <summary>The poison message's fields, as the Functions host writes them.</summary>
    public sealed record PoisonMessage(string? Type, string? FunctionId, string? BlobType, string? ContainerName, string? BlobName, string? ETag);
}
