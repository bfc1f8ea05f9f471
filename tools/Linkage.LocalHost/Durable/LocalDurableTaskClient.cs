using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core.Query;
using OrchestrationQuery = Microsoft.DurableTask.Client.OrchestrationQuery;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using DtfxStatus = DurableTask.Core.OrchestrationStatus;

namespace Linkage.LocalHost.Durable;

/// <summary>
/// The local engine's client, as the <see cref="DurableTaskClient"/> a <c>[DurableClient]</c> parameter receives — what
/// Durable Functions binds in Azure — implemented over the Durable Task Framework's <see cref="TaskHubClient"/> and the
/// Azure Storage backend's query and purge API. Entities, rewind and restart are not used by the app and not offered.
/// </summary>
public sealed class LocalDurableTaskClient(TaskHubClient client, AzureStorageOrchestrationService service, string taskHub) : DurableTaskClient(taskHub)
{
    private static readonly DataConverter Converter = JsonDataConverter.Default;

    private static readonly DtfxStatus[] DedupeAll = Enum.GetValues<DtfxStatus>();

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        string instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        if (options?.StartAt is { } at)
        {
            return (await client.CreateScheduledOrchestrationInstanceAsync(orchestratorName.Name, options.Version?.Version ?? "", instanceId, input, at.UtcDateTime)).InstanceId;
        }

        // An instance id that exists in any state is refused (OrchestrationAlreadyExistsException), as Durable Functions does
        // for running ones: two triggers racing to start one delivery start it once.
        var instance = await client.CreateOrchestrationInstanceAsync(orchestratorName.Name, options?.Version?.Version ?? "", instanceId, input, tags: null, DedupeAll);
        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        client.RaiseEventAsync(new OrchestrationInstance { InstanceId = instanceId }, eventName, eventPayload!);

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            var m = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);
            if (m is not null && m.RuntimeStatus != OrchestrationRuntimeStatus.Pending)
            {
                return m;
            }

            await Task.Delay(250, cancellation);
        }
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            var m = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);
            if (m is not null && m.IsCompleted)
            {
                return m;
            }

            await Task.Delay(250, cancellation);
        }
    }

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        client.TerminateInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, options?.Output?.ToString() ?? "Terminated");

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        client.SuspendInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason);

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        client.ResumeInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason);

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var states = await service.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: getInputsAndOutputs);
        return states.FirstOrDefault() is { } state ? ToMetadata(state, getInputsAndOutputs) : null;
    }

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (continuation, pageSize, cancellation) =>
        {
            var condition = new OrchestrationInstanceStatusQueryCondition
            {
                RuntimeStatus = filter?.Statuses?.Select(ToDtfx).ToList(),
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime ?? default,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime ?? default,
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                FetchInput = filter?.FetchInputsAndOutputs ?? false,
                FetchOutput = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await service.GetOrchestrationStateAsync(condition, pageSize ?? filter?.PageSize ?? 100, continuation ?? filter?.ContinuationToken, cancellation);
            return new Page<OrchestrationMetadata>([.. result.OrchestrationState.Select(s => ToMetadata(s, condition.FetchInput))], result.ContinuationToken);
        });

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await service.PurgeInstanceHistoryAsync(instanceId);
        return new PurgeResult(result.InstancesDeleted);
    }

    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await service.PurgeInstanceHistoryAsync(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue, filter.CreatedTo?.UtcDateTime, filter.Statuses?.Select(ToDtfx).ToList());
        return new PurgeResult(result.InstancesDeleted);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static OrchestrationMetadata ToMetadata(OrchestrationState s, bool withData) => new(s.Name, s.OrchestrationInstance.InstanceId)
    {
        RuntimeStatus = (OrchestrationRuntimeStatus)s.OrchestrationStatus,
        CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(s.CreatedTime, DateTimeKind.Utc)),
        LastUpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(s.LastUpdatedTime, DateTimeKind.Utc)),
        SerializedInput = withData ? s.Input : null,
        SerializedOutput = withData && s.OrchestrationStatus == DtfxStatus.Completed ? s.Output : null,
        SerializedCustomStatus = s.Status,
        FailureDetails = s.OrchestrationStatus == DtfxStatus.Failed ? new TaskFailureDetails(s.FailureDetails?.ErrorType ?? "Failed", s.FailureDetails?.ErrorMessage ?? s.Output ?? "", null, null, null) : null,
        DataConverter = Converter,
    };

    private static DtfxStatus ToDtfx(OrchestrationRuntimeStatus status) => (DtfxStatus)(int)status;
}

/// <summary>
/// Serialises for the DTFx side as the Microsoft.DurableTask side does (System.Text.Json), so inputs, event payloads and
/// outputs read back the same through either.
/// </summary>
internal sealed class StjDataConverter : DurableTask.Core.Serializing.DataConverter
{
    public override string? Serialize(object? value) => JsonDataConverter.Default.Serialize(value);

    public override string? Serialize(object? value, bool formatted) => JsonDataConverter.Default.Serialize(value);

    public override object? Deserialize(string? data, Type objectType) => JsonDataConverter.Default.Deserialize(data, objectType);
}
