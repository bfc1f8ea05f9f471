using Azure;
using Azure.Storage.Blobs;

namespace Linkage.Functions.Runtime;

/// <summary>The blob version that triggered a function.</summary>
/// <param name="Blob">Client for the blob; read it with <see cref="ETag"/> as a condition to see exactly this version.</param>
/// <param name="Name">Blob name inside its container.</param>
/// <param name="ETag">The version being processed.</param>
/// <param name="PathValues">Values of the trigger pattern's variables (e.g. study, name).</param>
/// <param name="Attempt">1 for the first try, then 2, 3… after failures.</param>
public sealed record BlobTriggerContext(
    BlobClient Blob,
    string Name,
    ETag ETag,
    IReadOnlyDictionary<string, string> PathValues,
    int Attempt);

/// <summary>A queue message delivered to a function.</summary>
public sealed record QueueTriggerContext(string QueueName, string MessageId, string Body, long DequeueCount);

/// <summary>A timer occurrence.</summary>
/// <param name="ScheduledTime">The occurrence being run.</param>
/// <param name="IsPastDue">True when the occurrence was missed (the app was down) and is being caught up.</param>
/// <param name="Last">The previous occurrence that ran, if any.</param>
/// <param name="Next">The next occurrence after this one.</param>
public sealed record TimerTriggerContext(DateTimeOffset ScheduledTime, bool IsPastDue, DateTimeOffset? Last, DateTimeOffset Next);
