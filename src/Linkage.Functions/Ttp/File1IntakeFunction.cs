using Azure.Storage.Blobs;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Ttp;

/// <summary>
/// Blob-triggered File 1 intake: each provider drops <c>&lt;STUDY&gt;/&lt;STUDY&gt;_FILE1_v&lt;N&gt;_&lt;YYYYMMDD&gt;.csv</c> into
/// the File 1 inbox. The trigger takes every blob, so a file outside a study folder is rejected and reported, not ignored.
/// It binds a client (never the content) and starts the delivery's workflow, which runs <see cref="File1IntakeService"/>.
/// </summary>
[Zone(FunctionZone.Ttp)]
public sealed class File1IntakeFunction(DeliveryStarter deliveries)
{
    [Function("File1Intake")]
    public Task Run(
        [BlobTrigger(TtpStorage.File1Inbox + "/{name}", Connection = "DataStorage")] BlobClient blob,
        [DurableClient] DurableTaskClient durable,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        deliveries.StartFromTriggerAsync(TtpStorage.File1Inbox, blob, context, durable, cancellationToken);
}

/// <summary>The File 1 inbox's intake, and its providers' area for notes.</summary>
public sealed class File1InboxHandler(File1IntakeService intake) : IInboxHandler
{
    public string Inbox => TtpStorage.File1Inbox;

    public FunctionZone Zone => FunctionZone.Ttp;

    public async Task<string> ProcessAsync(BlobClient blob, global::Azure.ETag etag, CancellationToken cancellationToken) =>
        (await intake.ProcessAsync(blob, etag, cancellationToken)).Outcome;

    public (string Container, string Name) NoteFor(string blobName) => (TtpStorage.ProviderReports, blobName + ".held.txt");

    public Task WithdrawUncommittedAsync(string blobName, CancellationToken cancellationToken) => intake.RecoverStudyAsync(blobName, cancellationToken);
}
