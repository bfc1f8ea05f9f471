using System.Collections.Concurrent;
using Linkage.LocalHost;
using Linkage.LocalHost.Triggers;

namespace Linkage.Functions.Tests.LocalHost;

/// <summary>A blob function that records each (blob, ETag) it ran for, and can be told to fail.</summary>
internal sealed class RecordingBlobFunction(string container, Func<BlobTriggerContext, bool>? fail = null, TimeSpan? work = null) : IBlobFunction
{
    public ConcurrentQueue<(string Name, string ETag, int Attempt)> Runs { get; } = new();

    public TargetDefinition Definition { get; } = new("RecordingBlob", Linkage.Functions.Hosting.FunctionZone.Ttp, new BlobTriggerDefinition(container, "{study}/{name}"));

    public async Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken)
    {
        Runs.Enqueue((context.Name, context.ETag.ToString(), context.Attempt));
        if (work is { } w)
        {
            await Task.Delay(w, cancellationToken);
        }

        if (fail?.Invoke(context) == true)
        {
            throw new InvalidOperationException("Deliberate failure for the test.");
        }
    }
}

/// <summary>A blob function that runs until its token is cancelled, and says when it started and when it was cancelled.</summary>
internal sealed class BlockingBlobFunction(string container) : IBlobFunction
{
    public TaskCompletionSource<BlobTriggerContext> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TargetDefinition Definition { get; } = new("BlockingBlob", Linkage.Functions.Hosting.FunctionZone.Ttp, new BlobTriggerDefinition(container, "{study}/{name}"));

    public async Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() => Cancelled.TrySetResult());
        Started.TrySetResult(context);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

internal sealed class RecordingQueueFunction(string queue, bool alwaysFail) : IQueueFunction
{
    public ConcurrentQueue<(string Body, long DequeueCount)> Runs { get; } = new();

    public TargetDefinition Definition { get; } = new("RecordingQueue", Linkage.Functions.Hosting.FunctionZone.Processor, new QueueTriggerDefinition(queue));

    public Task RunAsync(QueueTriggerContext context, CancellationToken cancellationToken)
    {
        Runs.Enqueue((context.Body, context.DequeueCount));
        return alwaysFail ? throw new InvalidOperationException("Deliberate failure for the test.") : Task.CompletedTask;
    }
}

internal sealed class RecordingTimerFunction(string schedule, string name = "RecordingTimer") : ITimerFunction
{
    public ConcurrentQueue<TimerTriggerContext> Runs { get; } = new();

    public TargetDefinition Definition { get; } = new(name, Linkage.Functions.Hosting.FunctionZone.Platform, new TimerTriggerDefinition(schedule));

    public Task RunAsync(TimerTriggerContext context, CancellationToken cancellationToken)
    {
        Runs.Enqueue(context);
        return Task.CompletedTask;
    }
}
