using DurableTask.AzureStorage;
using DurableTask.Core;
using Linkage.Functions.Hosting;
using Linkage.LocalHost.Functions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Options;
using DtfxOrchestration = DurableTask.Core.TaskOrchestration;
using DtfxActivity = DurableTask.Core.TaskActivity;

namespace Linkage.LocalHost.Durable;

/// <summary>
/// The Durable Task Framework with its Azure Storage backend — the engine Durable Functions runs on — over the local
/// stack's storage. The app's orchestrator and activity functions are registered through Microsoft.DurableTask's shims,
/// so the same classes run here and under Durable Functions. State lives in the task hub's tables, queues and blobs:
/// a workflow interrupted by a kill resumes when a host starts again.
/// </summary>
public sealed class LocalDurableEngine : IHostedService, IAsyncDisposable
{
    private readonly AzureStorageOrchestrationService _service;
    private readonly TaskHubWorker _worker;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<LocalDurableEngine> _logger;
    private readonly bool _listeners;
    private Task? _stopped;
    private volatile bool _disposed;

    public LocalDurableEngine(IEnumerable<AppFunction> functions, FunctionInvoker invoker, StorageConnection storage, IConfiguration configuration, IOptions<LocalHostOptions> options, ILoggerFactory loggers)
    {
        _logger = loggers.CreateLogger<LocalDurableEngine>();
        var o = options.Value;
        _listeners = o.Listeners;
        TaskHubName = TaskHubNameFrom(configuration);
        _service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(storage.ConnectionString),
            TaskHubName = TaskHubName,
            PartitionCount = 1,
            WorkerId = o.WorkerId is { Length: > 0 } id ? id : $"{Environment.MachineName}-{o.HostId}",
            MaxQueuePollingInterval = o.DurablePollInterval,
            WorkItemQueueVisibilityTimeout = o.DurableVisibilityTimeout,
            ControlQueueVisibilityTimeout = o.DurableVisibilityTimeout,
            MaxConcurrentTaskActivityWorkItems = 4,
            MaxConcurrentTaskOrchestrationWorkItems = 10,
            LoggerFactory = loggers,
        });
        Client = new LocalDurableTaskClient(new TaskHubClient(_service, new StjDataConverter(), loggers), _service, TaskHubName);

        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), loggers);
        _worker = new TaskHubWorker(_service, loggers);
        foreach (var f in functions)
        {
            switch (f.Kind)
            {
                case TriggerKind.Orchestration:
                    _worker.AddTaskOrchestrations(new Creator<DtfxOrchestration>(f.Name, () => shims.CreateOrchestration(new TaskName(f.Name), new FunctionOrchestrator(f, invoker), parent: null)));
                    break;
                case TriggerKind.Activity:
                    _worker.AddTaskActivities(new Creator<DtfxActivity>(f.Name, () => shims.CreateActivity(new TaskName(f.Name), new FunctionActivity(f, invoker, _stopping.Token))));
                    break;
            }
        }
    }

    public string TaskHubName { get; }

    public LocalDurableTaskClient Client { get; }

    /// <summary>The hub name from host.json's <c>extensions.durableTask.hubName</c> setting (<c>DurableTaskHubName</c>).</summary>
    public static string TaskHubNameFrom(IConfiguration configuration) => configuration["DurableTaskHubName"] is { Length: > 0 } name ? name : "linkagelocal";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_listeners)
        {
            return;
        }

        await _service.CreateIfNotExistsAsync();
        await _worker.StartAsync();
        _logger.LogInformation("Durable Task engine started on task hub {Hub}", TaskHubName);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            return; // a host may stop its services again after disposing the provider
        }

        await _stopping.CancelAsync();
        if (!_listeners)
        {
            return;
        }

        _stopped ??= StopWorkerAsync();
        await _stopped.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_stopped is not null)
        {
            await _stopped; // never dispose the worker under a stop still running
        }

        _worker.Dispose();
        _stopping.Dispose();
    }

    private async Task StopWorkerAsync()
    {
        try
        {
            await _worker.StopAsync(isForced: true).WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception e)
        {
            // Work items in flight reappear after their visibility timeout, on this host or another.
            _logger.LogWarning("The Durable Task engine did not stop cleanly ({Reason}); its work items reappear after their visibility timeout", e.GetType().Name);
        }
    }

    /// <summary>Files an orchestration or activity under its function's name (version "") on the DTFx worker.</summary>
    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> _create;

        public Creator(string name, Func<T> create)
        {
            Name = name;
            Version = "";
            _create = create;
        }

        public override T Create() => _create();
    }
}
