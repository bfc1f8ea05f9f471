using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.LocalHost.Triggers;
using Microsoft.Azure.Functions.Worker;

namespace Linkage.LocalHost.Functions;

/// <summary>Builds the listeners' targets from the app's blob, queue and timer functions.</summary>
public static class MethodTargets
{
    public static ITriggerTarget? For(AppFunction f, FunctionInvoker invoker, IConfiguration configuration) => f.Trigger switch
    {
        BlobTriggerAttribute b => Blob(f, invoker, configuration, b),
        QueueTriggerAttribute q => new QueueTarget(f, invoker, new TargetDefinition(f.Name, f.Entry.Zone, new QueueTriggerDefinition(AppFunction.Resolve(q.QueueName, configuration)))),
        TimerTriggerAttribute t => new TimerTarget(f, invoker, new TargetDefinition(f.Name, f.Entry.Zone, new TimerTriggerDefinition(AppFunction.Resolve(t.Schedule, configuration)))),
        _ => null,
    };

    private static BlobTarget Blob(AppFunction f, FunctionInvoker invoker, IConfiguration configuration, BlobTriggerAttribute b)
    {
        string path = AppFunction.Resolve(b.BlobPath, configuration);
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new InvalidOperationException($"Function {f.Name}: blob path '{path}' needs a container and a pattern (container/{{name}}).");
        }

        if (f.TriggerParameter.ParameterType != typeof(BlobClient))
        {
            // The app binds a client and reads the blob as a stream; content bindings would load whole files into memory.
            throw new InvalidOperationException($"Function {f.Name}: the local host binds blob triggers to BlobClient only (got {f.TriggerParameter.ParameterType.Name}).");
        }

        return new BlobTarget(f, invoker, new TargetDefinition(f.Name, f.Entry.Zone, new BlobTriggerDefinition(path[..slash], path[(slash + 1)..])));
    }

    private sealed class BlobTarget(AppFunction function, FunctionInvoker invoker, TargetDefinition definition) : IBlobFunction
    {
        public TargetDefinition Definition { get; } = definition;

        public Task RunAsync(BlobTriggerContext context, CancellationToken cancellationToken)
        {
            // The binding data the Functions host passes with a blob trigger: path values, the blob's path, URI and properties.
            var data = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
            {
                ["BlobTrigger"] = $"{context.Blob.BlobContainerName}/{context.Name}",
                ["Uri"] = context.Blob.Uri.ToString(),
                ["Properties"] = JsonSerializer.Serialize(new { ETag = context.ETag.ToString() }),
            };
            foreach (var (k, v) in context.PathValues)
            {
                data[k] = v;
            }

            return invoker.InvokeAsync(function, context.Blob, data, cancellationToken);
        }
    }

    private sealed class QueueTarget(AppFunction function, FunctionInvoker invoker, TargetDefinition definition) : IQueueFunction
    {
        public TargetDefinition Definition { get; } = definition;

        public Task RunAsync(QueueTriggerContext context, CancellationToken cancellationToken) =>
            invoker.InvokeAsync(function, context.Body, new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Id"] = context.MessageId,
                ["DequeueCount"] = context.DequeueCount,
            }, cancellationToken);
    }

    private sealed class TimerTarget(AppFunction function, FunctionInvoker invoker, TargetDefinition definition) : ITimerFunction
    {
        public TargetDefinition Definition { get; } = definition;

        public Task RunAsync(TimerTriggerContext context, CancellationToken cancellationToken)
        {
            var info = new TimerInfo
            {
                IsPastDue = context.IsPastDue,
                ScheduleStatus = new ScheduleStatus { Last = context.Last?.UtcDateTime ?? default, Next = context.Next.UtcDateTime, LastUpdated = context.ScheduledTime.UtcDateTime },
            };
            return invoker.InvokeAsync(function, info, new Dictionary<string, object?>(), cancellationToken);
        }
    }
}
