using Linkage.Functions.Runtime;

namespace Linkage.Functions.Processor;

/// <summary>Blob-triggered File 2 intake: health-data owners drop <c>&lt;dataset id&gt;/&lt;file&gt;.csv</c> into the File 2 inbox.</summary>
public sealed class File2IntakeFunction(File2IntakeService intake) : IBlobFunction
{
    public FunctionDefinition Definition { get; } = new("File2Intake", FunctionZone.Processor, new BlobTriggerDefinition(ProcessorStorage.File2Inbox, "{dataset}/{name}"));

    public Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken) =>
        intake.ProcessAsync(context.Blob, context.ETag, cancellationToken);
}
