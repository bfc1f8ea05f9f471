namespace Linkage.Functions.Runtime;

/// <summary>
/// The zone a function belongs to. A deployment enables a chosen set of zones, so the trusted third party (TTP) can run
/// as its own app, with its own identity, and never load the TRE-side functions (and vice versa).
/// </summary>
public enum FunctionZone
{
    /// <summary>Touches identifiers: File 1 intake, NHS Output, registry.</summary>
    Ttp,

    /// <summary>Encrypted data only: File 2 intake, curation.</summary>
    Processor,

    /// <summary>Per-project provisioning for project admins.</summary>
    Provisioning,

    /// <summary>Shared plumbing (health, workflow engine), present in every deployment.</summary>
    Platform,
}

/// <summary>What starts a function.</summary>
public abstract record TriggerDefinition;

/// <summary>A blob created or changed under <paramref name="Container"/> whose name matches <paramref name="PathPattern"/>
/// (e.g. <c>{study}/{name}</c>); each pattern variable becomes a path value.</summary>
public sealed record BlobTriggerDefinition(string Container, string PathPattern) : TriggerDefinition;

/// <summary>A message on an Azure Storage queue.</summary>
public sealed record QueueTriggerDefinition(string QueueName) : TriggerDefinition;

/// <summary>A six- or five-field cron schedule (Cronos syntax, UTC).</summary>
public sealed record TimerTriggerDefinition(string Schedule) : TriggerDefinition;

/// <summary>A function's name (unique in the app), zone and trigger.</summary>
public sealed record FunctionDefinition(string Name, FunctionZone Zone, TriggerDefinition Trigger);

/// <summary>A function: one class, one trigger.</summary>
public interface IFunction
{
    FunctionDefinition Definition { get; }
}

public interface IBlobFunction : IFunction
{
    Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken);
}

public interface IQueueFunction : IFunction
{
    Task RunAsync(QueueTriggerContext context, CancellationToken cancellationToken);
}

public interface ITimerFunction : IFunction
{
    Task RunAsync(TimerTriggerContext context, CancellationToken cancellationToken);
}
