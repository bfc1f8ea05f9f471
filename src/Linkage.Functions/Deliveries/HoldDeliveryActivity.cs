using System.Diagnostics.Metrics;
using Azure.Storage.Blobs;
using Linkage.Functions.Hosting;
using Microsoft.DurableTask;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// Holds a delivery that will not be tried again automatically: the record says so (for operators and the held-deliveries
/// alert), and the provider's area gets a plain note. The blob stays in the inbox. Idempotent: the note has a fixed
/// name and the record only moves to Held.
/// </summary>
public sealed class HoldDeliveryActivity(DeliveryHolder holder) : TaskActivity<HoldRequest, DeliveryRecord?>
{
    /// <summary>The activity's function name, which the orchestration calls.</summary>
    public const string Name = "HoldDelivery";

    public CancellationToken CancellationToken { get; set; }

    public override Task<DeliveryRecord?> RunAsync(TaskActivityContext context, HoldRequest request) =>
        holder.HoldAsync(request.DeliveryId, request.Failure, request.Error, CancellationToken);
}

/// <summary>Holding a delivery, shared by the workflow and the poison-queue function.</summary>
public sealed class DeliveryHolder(BlobServiceClient blobs, DeliveryStore store, InboxHandlers handlers, TimeProvider time, ILogger<DeliveryHolder> logger)
{
    private static readonly Counter<long> Held = new Meter(TelemetryExtensions.ActivitySourceName).CreateCounter<long>("linkage.deliveries.held", description: "Deliveries held for an operator");

    public async Task<DeliveryRecord?> HoldAsync(string deliveryId, FailureClass failure, string? error, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(deliveryId, cancellationToken);
        if (record is null || record.State == DeliveryState.Completed)
        {
            return record;
        }

        var (container, name) = handlers.Get(record.Inbox).NoteFor(record.BlobName);
        var notes = blobs.GetBlobContainerClient(container);
        await notes.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await notes.GetBlobClient(name).UploadAsync(BinaryData.FromString(NoteText(record, failure)), overwrite: true, cancellationToken);
        var held = await store.HoldAsync(deliveryId, failure, error, $"{container}/{name}", cancellationToken);
        Held.Add(1, new KeyValuePair<string, object?>("inbox", record.Inbox), new KeyValuePair<string, object?>("class", failure.ToString()));
        logger.LogError(
            "Delivery {Delivery} ({Inbox}/{Blob}) is held after {Attempts} attempts ({Class}: {Error}); an operator can re-drive it with POST /api/deliveries/{Delivery}/redrive",
            deliveryId, record.Inbox, record.BlobName, record.Attempts, failure, error, deliveryId);
        return held;
    }

    private string NoteText(DeliveryRecord record, FailureClass failure)
    {
        string reason = failure switch
        {
            FailureClass.Waiting => "it is waiting for something the TRE operators provide (for example the current national data opt-out list)",
            FailureClass.Transient => "the storage or key services it needs did not answer for several hours",
            FailureClass.CrashLoop => "processing it stopped the service several times",
            FailureClass.Configuration => "the service was refused access to something it needs",
            _ => "processing it failed in an unexpected way",
        };
        return $"""
            Your delivery {Path.GetFileName(record.BlobName)} (received {record.ReceivedAt:yyyy-MM-dd HH:mm} UTC) has not been processed yet,
            because {reason}.

            Nothing is lost: the file is kept as you sent it, and the TRE operators have been alerted. They will process it
            once the cause is fixed; you do not need to send it again. Reference for the operators: delivery {record.Id}.

            (Written {time.GetUtcNow():yyyy-MM-dd HH:mm} UTC.)

            """;
    }
}
