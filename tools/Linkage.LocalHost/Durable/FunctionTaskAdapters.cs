using System.Text.Json;
using Linkage.LocalHost.Functions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;

namespace Linkage.LocalHost.Durable;

/// <summary>
/// An orchestrator <c>[Function]</c> seen as a Durable Task orchestrator. The input is kept as JSON and read by the
/// function's own <c>GetInput&lt;T&gt;()</c>, as in Durable Functions, where the function (not the host) knows its type.
/// </summary>
internal sealed class FunctionOrchestrator(AppFunction function, FunctionInvoker invoker) : ITaskOrchestrator
{
    public Type InputType => typeof(JsonElement?);

    public Type OutputType => function.Method.ReturnType.IsGenericType ? function.Method.ReturnType.GetGenericArguments()[0] : typeof(object);

    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
        invoker.InvokeOrchestration(function, new JsonInputOrchestrationContext(context, input as JsonElement?));
}

/// <summary>An activity <c>[Function]</c> seen as a Durable Task activity; its trigger parameter's type is the input type.</summary>
internal sealed class FunctionActivity(AppFunction function, FunctionInvoker invoker, CancellationToken stopping) : ITaskActivity
{
    public Type InputType => function.TriggerParameter.ParameterType;

    public Type OutputType => function.Method.ReturnType.IsGenericType ? function.Method.ReturnType.GetGenericArguments()[0] : typeof(object);

    public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
        invoker.InvokeAsync(function, input, new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["instanceId"] = context.InstanceId }, stopping);
}

/// <summary>The shim's orchestration context, with <see cref="GetInput{T}"/> reading the JSON input on demand.</summary>
internal sealed class JsonInputOrchestrationContext(TaskOrchestrationContext inner, JsonElement? input) : TaskOrchestrationContext
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public override TaskName Name => inner.Name;

    public override string InstanceId => inner.InstanceId;

    public override ParentOrchestrationInstance? Parent => inner.Parent;

    public override DateTime CurrentUtcDateTime => inner.CurrentUtcDateTime;

    public override bool IsReplaying => inner.IsReplaying;

    public override TaskOrchestrationEntityFeature Entities => inner.Entities;

    protected override ILoggerFactory LoggerFactory => throw new NotSupportedException("Use CreateReplaySafeLogger of the inner context.");

    public override T GetInput<T>() => input is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.Deserialize<T>(Json)! : default!;

    public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null) => inner.CallActivityAsync<TResult>(name, input, options);

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => inner.CreateTimer(fireAt, cancellationToken);

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) => inner.WaitForExternalEvent<T>(eventName, cancellationToken);

    public override void SendEvent(string instanceId, string eventName, object payload) => inner.SendEvent(instanceId, eventName, payload);

    public override void SetCustomStatus(object? customStatus) => inner.SetCustomStatus(customStatus);

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) =>
        inner.CallSubOrchestratorAsync<TResult>(orchestratorName, input, options);

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) => inner.ContinueAsNew(newInput, preserveUnprocessedEvents);

    public override Guid NewGuid() => inner.NewGuid();
}
