using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Linkage.Functions.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// What an inbox's blob trigger does: record the delivery and start its workflow under an instance id made from the
/// blob version, so a redelivered trigger starts nothing new.
/// </summary>
public sealed class DeliveryStarter(DeliveryStore store, IOptions<DeliveryRetryPolicy> policy, ILogger<DeliveryStarter> logger)
{
    public async Task<DeliveryRecord> StartAsync(DeliveryRef delivery, IWorkflowClient workflows, CancellationToken cancellationToken)
    {
        var record = await store.EnsureAsync(delivery, cancellationToken);
        if (record.State is DeliveryState.Completed or DeliveryState.Held)
        {
            logger.LogInformation("Delivery {Delivery} ({Inbox}/{Blob}) is already {State}; nothing to start", record.Id, delivery.Inbox, delivery.BlobName, record.State);
            return record;
        }

        return await StartWorkflowAsync(record, workflows, cancellationToken);
    }

    /// <summary>What an inbox's blob trigger does with the blob version that fired it.</summary>
    public async Task<DeliveryRecord> StartFromTriggerAsync(string inbox, BlobClient blob, FunctionContext context, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var etag = await TriggeringETagAsync(context, blob, cancellationToken);
        return await StartAsync(new DeliveryRef(inbox, blob.Name, etag.ToString()), new DurableWorkflowClient(durable), cancellationToken);
    }

    /// <summary>Starts the record's current-generation workflow unless it exists.</summary>
    public async Task<DeliveryRecord> StartWorkflowAsync(DeliveryRecord record, IWorkflowClient workflows, CancellationToken cancellationToken)
    {
        var work = new DeliveryWork(record.Id, record.Inbox, record.BlobName, record.ETag, policy.Value, record.Generation);
        bool started = await workflows.StartIfNewAsync(nameof(DeliveryOrchestration), record.InstanceId, work, cancellationToken);
        logger.LogInformation(
            started ? "Started workflow {Instance} for {Inbox}/{Blob}" : "Workflow {Instance} for {Inbox}/{Blob} already exists",
            record.InstanceId, record.Inbox, record.BlobName);
        return record;
    }

    /// <summary>
    /// The version that fired a blob trigger, from the trigger's binding data (<c>Properties.ETag</c>); read from the
    /// blob only when a host did not pass it (then a newer upload may already be there, and it is the one taken).
    /// </summary>
    public static async Task<ETag> TriggeringETagAsync(FunctionContext context, BlobClient blob, CancellationToken cancellationToken)
    {
        if (context.BindingContext.BindingData.TryGetValue("Properties", out var properties) && properties is not null)
        {
            using var doc = JsonDocument.Parse(properties as string ?? JsonSerializer.Serialize(properties));
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name.Equals("ETag", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is { Length: > 0 } etag)
                {
                    return new ETag(etag.StartsWith('"') ? etag : $"\"{etag}\"");
                }
            }
        }

        return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ETag;
    }
}
