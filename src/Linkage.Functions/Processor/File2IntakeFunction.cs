using Linkage.Functions.Runtime;

namespace Linkage.Functions.Processor;

/// <summary>
/// Blob-triggered File 2 intake: health-data owners drop <c>&lt;dataset id&gt;/&lt;file&gt;.csv</c> into the File 2 inbox.
/// The trigger takes every blob, so a file outside a dataset folder is quarantined and reported, not ignored.
/// </summary>
public sealed class File2IntakeFunction(File2IntakeService intake) : IBlobFunction
{
    public FunctionDefinition Definition { get; } = new("File2Intake", FunctionZone.Processor, new BlobTriggerDefinition(ProcessorStorage.File2Inbox, "{name}"));

    public Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken) =>
        intake.ProcessAsync(context.Blob, context.ETag, cancellationToken);
}
