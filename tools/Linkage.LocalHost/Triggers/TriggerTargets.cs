using Azure;
using Azure.Storage.Blobs;
using Linkage.Functions.Hosting;

namespace Linkage.LocalHost.Triggers;

/// <summary>What starts a function.</summary>
public abstract record TriggerDefinition;

/// <summary>A blob created or changed under <paramref name="Container"/> whose name matches <paramref name="PathPattern"/>
/// (e.g. <c>{study}/{name}</c>); each pattern variable becomes a path value.</summary>
public sealed record BlobTriggerDefinition(string Container, string PathPattern) : TriggerDefinition;

/// <summary>A message on an Azure Storage queue.</summary>
public sealed record QueueTriggerDefinition(string QueueName) : TriggerDefinition;

/// <summary>A six- or five-field cron schedule (NCRONTAB as in Functions; UTC).</summary>
public sealed record TimerTriggerDefinition(string Schedule) : TriggerDefinition;

/// <summary>A function's name (unique in the app), zone and trigger.</summary>
public sealed record TargetDefinition(string Name, FunctionZone Zone, TriggerDefinition Trigger);

/// <summary>Something a listener runs: one function, one trigger.</summary>
public interface ITriggerTarget
{
    TargetDefinition Definition { get; }
}

public interface IBlobFunction : ITriggerTarget
{
    Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken);
}

public interface IQueueFunction : ITriggerTarget
{
    Task RunAsync(QueueTriggerContext context, CancellationToken cancellationToken);
}

public interface ITimerFunction : ITriggerTarget
{
    Task RunAsync(TimerTriggerContext context, CancellationToken cancellationToken);
}

/// <summary>The blob version that triggered a function.</summary>
/// <param name="Blob">Client for the blob; read it with <see cref="ETag"/> as a condition to see exactly this version.</param>
/// <param name="Name">Blob name inside its container.</param>
/// <param name="ETag">The version being processed.</param>
/// <param name="PathValues">Values of the trigger pattern's variables (e.g. study, name).</param>
/// <param name="Attempt">1 for the first try, then 2, 3… after failures (crashed tries included).</param>
public sealed record BlobTriggerContext(BlobClient Blob, string Name, ETag ETag, IReadOnlyDictionary<string, string> PathValues, int Attempt);

/// <summary>A queue message delivered to a function.</summary>
public sealed record QueueTriggerContext(string QueueName, string MessageId, string Body, long DequeueCount);

/// <summary>A timer occurrence.</summary>
/// <param name="ScheduledTime">The occurrence being run.</param>
/// <param name="IsPastDue">True when the occurrence was missed (the app was down) and is being caught up.</param>
/// <param name="Last">The previous occurrence that ran, if any.</param>
/// <param name="Next">The next occurrence after this one.</param>
public sealed record TimerTriggerContext(DateTimeOffset ScheduledTime, bool IsPastDue, DateTimeOffset? Last, DateTimeOffset Next);
