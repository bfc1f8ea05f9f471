using Azure;
using Azure.Storage.Blobs;
using Microsoft.DurableTask;

namespace Linkage.Functions.Deliveries;

/// <summary>
/// One attempt at a delivery: counts it first (so an attempt that kills the process still counts), runs the inbox's
/// intake on the blob version, and records what came of it. Activities run at least once: a re-run finds the delivery
/// completed and does nothing, and the intakes themselves recognise a blob version they have processed.
/// </summary>
public sealed class RunDeliveryActivity(
    BlobServiceClient blobs,
    DeliveryStore store,
    InboxHandlers handlers,
    ILogger<RunDeliveryActivity> logger) : TaskActivity<DeliveryWork, AttemptResult>
{
    /// <summary>The activity's function name, which the orchestration calls.</summary>
    public const string Name = "RunDelivery";

    /// <summary>Set by the function that runs this activity: the host's shutdown token.</summary>
    public CancellationToken CancellationToken { get; set; }

    public override async Task<AttemptResult> RunAsync(TaskActivityContext context, DeliveryWork work)
    {
        var ct = CancellationToken;
        var existing = await store.GetAsync(work.DeliveryId, ct) ?? await store.EnsureAsync(work.Ref, ct);
        if (existing.State == DeliveryState.Completed)
        {
            return AttemptResult.Done(existing.Outcome ?? "Completed", existing.Attempts);
        }

        if (existing.Generation != work.Generation)
        {
            // A workflow of an earlier generation, still running after a re-drive started a new one: step aside.
            return AttemptResult.Stop(existing.State, "NewerWorkflow", existing.Attempts);
        }

        if (await store.BeginAttemptAsync(work.DeliveryId, work.Generation, ct) is not { } record)
        {
            // Held or completed meanwhile (the poison queue, the sweep, or a re-run of a finished attempt).
            var now = await store.GetAsync(work.DeliveryId, ct);
            return AttemptResult.Stop(now?.State ?? DeliveryState.Held, now?.Outcome ?? "Stopped", now?.Attempts ?? existing.Attempts);
        }
        if (record.Attempts > work.Policy.MaxAttempts)
        {
            // Only attempts that never reported back get here: each one ended the process.
            logger.LogError("Delivery {Delivery} ({Inbox}/{Blob}) began {Attempts} attempts that never finished; holding it", work.DeliveryId, work.Inbox, work.BlobName, record.Attempts - 1);
            return AttemptResult.Failed(FailureClass.CrashLoop, record.Attempts, $"{record.Attempts - 1} attempts ended without a result (the process stopped during each).");
        }

        var blob = blobs.GetBlobContainerClient(work.Inbox).GetBlobClient(work.BlobName);
        try
        {
            string outcome = await handlers.Get(work.Inbox).ProcessAsync(blob, new ETag(work.ETag), ct);
            await store.CompleteAsync(work.DeliveryId, work.Generation, outcome, ct);
            return AttemptResult.Done(outcome, record.Attempts);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            if (e is RequestFailedException { Status: 404 or 412 } && !await IsStillThereAsync(blob, work.ETag, ct))
            {
                // The provider replaced or removed this version before it was processed; a newer one has its own delivery.
                await store.CompleteAsync(work.DeliveryId, work.Generation, "Superseded", ct);
                logger.LogInformation("Delivery {Delivery} ({Inbox}/{Blob}) was replaced or removed before it was processed", work.DeliveryId, work.Inbox, work.BlobName);
                return AttemptResult.Done("Superseded", record.Attempts);
            }

            var failure = FailureClassifier.Classify(e);
            string error = FailureClassifier.Describe(e);
            await store.RecordFailureAsync(work.DeliveryId, work.Generation, failure, error, ct);
            // Waiting is expected (the opt-out list comes later, another file of the study is running): not a warning.
            // The message is the sanitised description; the stack trace shows where, without the exception's own text.
            logger.Log(failure == FailureClass.Waiting ? LogLevel.Information : LogLevel.Warning,
                "Delivery {Delivery} ({Inbox}/{Blob}) attempt {Attempt} failed ({Class}): {Error}{StackTrace}",
                work.DeliveryId, work.Inbox, work.BlobName, record.Attempts, failure, error, failure == FailureClass.Waiting ? "" : "\n" + e.StackTrace);
            return AttemptResult.Failed(failure, record.Attempts, error);
        }
    }

    private static async Task<bool> IsStillThereAsync(BlobClient blob, string etag, CancellationToken ct)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: ct)).Value.ETag.ToString() == etag;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }
}
