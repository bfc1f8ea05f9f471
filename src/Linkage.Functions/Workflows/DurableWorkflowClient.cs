using Grpc.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Workflows;

/// <summary><see cref="IWorkflowClient"/> over a Durable Task client (whichever host bound it).</summary>
public sealed class DurableWorkflowClient(DurableTaskClient client) : IWorkflowClient
{
    public async Task<bool> StartIfNewAsync(string orchestration, string instanceId, object input, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            return false;
        }

        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(orchestration), input, new StartOrchestrationOptions(instanceId), cancellationToken);
            return true;
        }
        catch (Exception e) when (IsAlreadyExists(e))
        {
            return false; // another trigger started it between our check and our start
        }
    }

    public async Task<WorkflowStatus?> GetAsync(string instanceId, CancellationToken cancellationToken)
    {
        var m = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
        return m is null ? null : new WorkflowStatus(
            m.InstanceId,
            m.Name,
            StatusOf(m.RuntimeStatus),
            m.CreatedAt,
            m.LastUpdatedAt,
            m.SerializedCustomStatus,
            m.SerializedOutput,
            m.FailureDetails is { } f ? $"{f.ErrorType}: {f.ErrorMessage}" : null);
    }

    public static WorkflowRuntimeStatus StatusOf(OrchestrationRuntimeStatus status) => status switch
    {
        OrchestrationRuntimeStatus.Pending => WorkflowRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running => WorkflowRuntimeStatus.Running,
        OrchestrationRuntimeStatus.Completed => WorkflowRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed => WorkflowRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated => WorkflowRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Suspended => WorkflowRuntimeStatus.Suspended,
        _ => WorkflowRuntimeStatus.Unknown,
    };

    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken) =>
        client.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

    public Task TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken) =>
        client.TerminateInstanceAsync(instanceId, reason, cancellationToken);

    public async Task<IReadOnlyList<string>> RunningAsync(string orchestration, string instanceIdPrefix, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var query = new OrchestrationQuery { InstanceIdPrefix = instanceIdPrefix, Statuses = [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending] };
        await foreach (var m in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (m.Name == orchestration)
            {
                ids.Add(m.InstanceId);
            }
        }

        return ids;
    }

    public Task PurgeAsync(string instanceId, CancellationToken cancellationToken) =>
        client.PurgeInstanceAsync(instanceId, cancellation: cancellationToken);

    public async Task<int> PurgeEndedAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken)
    {
        var result = await client.PurgeAllInstancesAsync(
            new PurgeInstancesFilter(null, endedBefore, [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated]),
            cancellationToken);
        return result.PurgedInstanceCount;
    }

    private static bool IsAlreadyExists(Exception e) =>
        e is RpcException { StatusCode: StatusCode.AlreadyExists } || e.GetType().Name.Contains("AlreadyExists", StringComparison.Ordinal) || e.InnerException is { } inner && IsAlreadyExists(inner);
}
