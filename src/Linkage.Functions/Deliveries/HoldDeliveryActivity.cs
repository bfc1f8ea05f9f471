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
        holder.HoldAsync(request.DeliveryId, request.Generation, request.Failure, request.Error, CancellationToken);
}

/// <summary>Holding a delivery, shared by the workflow and the poison-queue function.</summary>
public sealed class DeliveryHolder(BlobServiceClient blobs, DeliveryStore store, InboxHandlers handlers, TimeProvider time, ILogger<DeliveryHolder> logger)
{
    private static readonly Counter<long> Held = new Meter(TelemetryExtensions.ActivitySourceName).CreateCounter<long>("linkage.deliveries.held", description: "Deliveries held for an operator");

    /// <summary>
    /// Marks the delivery held first (that is what operators and the alert see), then writes the provider's note; a note
    /// that cannot be written is logged, never a reason to leave the delivery unheld.
    /// </summary>
    /// <param name="generation">The workflow generation holding it; null for the poison queue and the sweep (the current one).</param>
    public async Task<DeliveryRecord?> HoldAsync(string deliveryId, int? generation, FailureClass failure, string? error, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(deliveryId, cancellationToken);
        if (record is null || record.State == DeliveryState.Completed)
        {
            return record;
        }

        var note = handlers.NoteFor(record.Inbox, record.BlobName);
        string? notePath = note is { } n ? $"{n.Container}/{n.Name}" : null;
        var held = await store.HoldAsync(deliveryId, generation, failure, error, notePath, cancellationToken);
        if (held is null)
        {
            return await store.GetAsync(deliveryId, cancellationToken); // completed, or re-driven meanwhile: not ours to hold
        }

        Held.Add(1, new KeyValuePair<string, object?>("inbox", record.Inbox), new KeyValuePair<string, object?>("class", failure.ToString()));
        logger.LogError(
            "Delivery {Delivery} ({Inbox}/{Blob}) is held after {Attempts} attempts ({Class}: {Error}); an operator can re-drive it with POST /api/deliveries/{Delivery}/redrive",
            deliveryId, record.Inbox, record.BlobName, held.Attempts, failure, error, deliveryId);
        if (note is { } location)
        {
            try
            {
                var notes = blobs.GetBlobContainerClient(location.Container);
                await notes.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await notes.GetBlobClient(location.Name).UploadAsync(BinaryData.FromString(NoteText(held, failure)), overwrite: true, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError("The note for held delivery {Delivery} could not be written to {Note} ({Reason}); tell the provider another way", deliveryId, notePath, FailureClassifier.Describe(e));
            }
        }

        if (handlers.Find(record.Inbox) is { } handler)
        {
            try
            {
                await handler.WithdrawUncommittedAsync(record.BlobName, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The next run of the same study or dataset withdraws them too; holding must not fail for this.
                logger.LogWarning("Outputs staged by held delivery {Delivery} could not be withdrawn now ({Reason}); the next run of its study will", deliveryId, FailureClassifier.Describe(e));
            }
        }

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
