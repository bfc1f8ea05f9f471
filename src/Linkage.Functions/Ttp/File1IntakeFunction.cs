using Linkage.Functions.Runtime;

namespace Linkage.Functions.Ttp;

/// <summary>
/// Blob-triggered File 1 intake: each provider drops <c>&lt;STUDY&gt;/&lt;STUDY&gt;_FILE1_v&lt;N&gt;_&lt;YYYYMMDD&gt;.csv</c> into
/// the File 1 inbox. The trigger takes every blob, so a file outside a study folder is rejected and reported, not ignored.
/// </summary>
public sealed class File1IntakeFunction(File1IntakeService intake) : IBlobFunction
{
    public FunctionDefinition Definition { get; } = new("File1Intake", FunctionZone.Ttp, new BlobTriggerDefinition(TtpStorage.File1Inbox, "{name}"));

    public Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken) =>
        intake.ProcessAsync(context.Blob, context.ETag, cancellationToken);
}
