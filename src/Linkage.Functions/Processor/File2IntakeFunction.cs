using Azure.Storage.Blobs;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Processor;

/// <summary>
/// Blob-triggered File 2 intake: health-data owners drop <c>&lt;dataset id&gt;/&lt;file&gt;.csv</c> into the File 2 inbox.
/// The trigger takes every blob, so a file outside a dataset folder is quarantined and reported, not ignored. It binds a
/// client (never the content: File 2s are gigabytes) and starts the delivery's workflow, which runs <see cref="File2IntakeService"/>.
/// </summary>
[Zone(FunctionZone.Processor)]
public sealed class File2IntakeFunction(DeliveryStarter deliveries)
{
    [Function("File2Intake")]
    public Task Run(
        [BlobTrigger(ProcessorStorage.File2Inbox + "/{name}", Connection = "DataStorage")] BlobClient blob,
        [DurableClient] DurableTaskClient durable,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        deliveries.StartFromTriggerAsync(ProcessorStorage.File2Inbox, blob, context, durable, cancellationToken);
}

/// <summary>The File 2 inbox's intake, and the data owners' area for notes.</summary>
public sealed class File2InboxHandler(File2IntakeService intake) : IInboxHandler
{
    public string Inbox => ProcessorStorage.File2Inbox;

    public FunctionZone Zone => FunctionZone.Processor;

    public async Task<string> ProcessAsync(BlobClient blob, global::Azure.ETag etag, CancellationToken cancellationToken) =>
        (await intake.ProcessAsync(blob, etag, cancellationToken)).Outcome;

    public (string Container, string Name) NoteFor(string blobName) => (ProcessorStorage.ProviderReports, blobName + ".held.txt");
}
