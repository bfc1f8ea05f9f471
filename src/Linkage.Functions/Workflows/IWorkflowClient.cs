using System.Text.Json.Serialization;

namespace Linkage.Functions.Workflows;

/// <summary>
/// What the app does with workflows (Durable Task orchestrations): start one under a chosen instance id (a second start
/// of the same id is a no-op), read its status, send it an event, stop it, purge old history. Functions build it from the
/// <c>DurableTaskClient</c> their <c>[DurableClient]</c> binding receives: Durable Functions' client in Azure, the local
/// host's client over the Durable Task Framework here.
/// </summary>
public interface IWorkflowClient
{
    /// <summary>Starts <paramref name="orchestration"/> as <paramref name="instanceId"/> unless an instance of that id exists; true when started.</summary>
    Task<bool> StartIfNewAsync(string orchestration, string instanceId, object input, CancellationToken cancellationToken);

    Task<WorkflowStatus?> GetAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Ids of the running or pending instances of <paramref name="orchestration"/> whose id starts with <paramref name="instanceIdPrefix"/>.</summary>
    Task<IReadOnlyList<string>> RunningAsync(string orchestration, string instanceIdPrefix, CancellationToken cancellationToken);

    Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken);

    Task TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken);

    /// <summary>Deletes one instance's history (so its id can be started again).</summary>
    Task PurgeAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Deletes the history of instances that ended before <paramref name="endedBefore"/>; returns how many.</summary>
    Task<int> PurgeEndedAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken);
}

[JsonConverter(typeof(JsonStringEnumConverter<WorkflowRuntimeStatus>))]
public enum WorkflowRuntimeStatus
{
    Pending,
    Running,
    Completed,
    Failed,
    Terminated,
    Suspended,
    Unknown,
}

/// <summary>A workflow instance as operators see it. Input is left out: status answers never echo what went in.</summary>
public sealed record WorkflowStatus(
    string InstanceId,
    string Name,
    WorkflowRuntimeStatus RuntimeStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string? CustomStatusJson,
    string? OutputJson,
    string? Failure)
{
    public bool HasEnded => RuntimeStatus is WorkflowRuntimeStatus.Completed or WorkflowRuntimeStatus.Failed or WorkflowRuntimeStatus.Terminated;
}
