using Linkage.Functions.Deliveries;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace Linkage.Functions.Tests.Deliveries;

/// <summary>
/// The delivery workflow's decisions, on a scripted orchestration context (pure logic: the engine itself is tested on
/// Azurite elsewhere): how long it waits, when it holds, and that a failing activity does not fail the workflow.
/// </summary>
public class DeliveryOrchestrationTests
{
    private static readonly DeliveryRetryPolicy Policy = new() { MaxAttempts = 4, MaxAttemptsUnexpected = 2, FirstRetryDelay = TimeSpan.FromSeconds(30), MaxRetryDelay = TimeSpan.FromMinutes(1) };
    private static readonly DeliveryWork Work = new("d1", "ttp-file1-inbox", "S/f.csv", "\"0x1\"", Policy);

    [Fact]
    public async Task Transient_failures_wait_doubling_up_to_the_cap_then_the_delivery_is_held()
    {
        var context = new ScriptedContext(n => AttemptResult.Failed(FailureClass.Transient, n, "RequestFailedException: 503"));
        var result = await new DeliveryOrchestration().RunAsync(context, Work);

        Assert.Equal(DeliveryState.Held, result.State);
        Assert.Equal([30d, 60d, 60d], context.Waits.Select(w => w.TotalSeconds));
        Assert.Equal(["RunDelivery", "RunDelivery", "RunDelivery", "RunDelivery", "HoldDelivery"], context.Calls);
        Assert.Equal(FailureClass.Transient, ((HoldRequest)context.Inputs[^1]!).Failure);
    }

    [Fact]
    public async Task A_defect_is_held_after_fewer_attempts_and_a_crash_loop_at_once()
    {
        var defect = new ScriptedContext(n => AttemptResult.Failed(FailureClass.Unexpected, n, "NullReferenceException: x"));
        Assert.Equal(DeliveryState.Held, (await new DeliveryOrchestration().RunAsync(defect, Work)).State);
        Assert.Equal(2, defect.Calls.Count(c => c == "RunDelivery"));

        var crashes = new ScriptedContext(n => AttemptResult.Failed(FailureClass.CrashLoop, 5, "4 attempts ended without a result"));
        Assert.Equal(DeliveryState.Held, (await new DeliveryOrchestration().RunAsync(crashes, Work)).State);
        Assert.Equal(["RunDelivery", "HoldDelivery"], crashes.Calls);
        Assert.Empty(crashes.Waits);
    }

    [Fact]
    public async Task An_activity_that_fails_outright_is_retried_like_a_transient_failure_and_can_still_succeed()
    {
        var context = new ScriptedContext(n => n < 3
            ? throw new TaskFailedException("RunDelivery", n, new TaskFailureDetails("Microsoft.Azure.Cosmos.CosmosException", "Service unavailable\nmore", null, null, null))
            : AttemptResult.Done("Accepted", n));
        var result = await new DeliveryOrchestration().RunAsync(context, Work);

        Assert.Equal(DeliveryState.Completed, result.State);
        Assert.Equal("Accepted", result.Outcome);
        Assert.Equal(2, context.Waits.Count);
        Assert.IsType<DeliveryProgress>(context.CustomStatus);
    }

    [Fact]
    public async Task A_workflow_superseded_by_a_redrive_stops_without_holding()
    {
        var context = new ScriptedContext(n => AttemptResult.Stop(DeliveryState.Pending, "NewerWorkflow", 2));
        var result = await new DeliveryOrchestration().RunAsync(context, Work);

        Assert.Equal(DeliveryState.Pending, result.State);
        Assert.Equal(["RunDelivery"], context.Calls);
    }

    [Fact]
    public void The_default_policy_spans_hours_not_seconds()
    {
        var policy = new DeliveryRetryPolicy();
        var total = Enumerable.Range(1, policy.MaxAttempts - 1).Select(n => policy.NextDelay(FailureClass.Transient, n)!.Value).Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Assert.InRange(total.TotalHours, 4, 6);
        Assert.Null(policy.NextDelay(FailureClass.Transient, policy.MaxAttempts));
        Assert.Null(policy.NextDelay(FailureClass.TriggerFailed, 1));
    }

    /// <summary>Answers RunDelivery from a script (by call number) and HoldDelivery with null; timers complete at once.</summary>
    private sealed class ScriptedContext(Func<int, AttemptResult> attempt) : TaskOrchestrationContext
    {
        private DateTime _now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private int _attempts;

        public List<string> Calls { get; } = [];

        public List<object?> Inputs { get; } = [];

        public List<TimeSpan> Waits { get; } = [];

        public object? CustomStatus { get; private set; }

        public override TaskName Name => new("DeliveryOrchestration");

        public override string InstanceId => "delivery-d1";

        public override ParentOrchestrationInstance? Parent => null;

        public override DateTime CurrentUtcDateTime => _now;

        public override bool IsReplaying => false;

        public override TaskOrchestrationEntityFeature Entities => throw new NotSupportedException();

        protected override ILoggerFactory LoggerFactory => throw new NotSupportedException();

        public override T GetInput<T>() => throw new NotSupportedException();

        public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null)
        {
            Calls.Add(name.Name);
            Inputs.Add(input);
            if (name.Name == RunDeliveryActivity.Name)
            {
                try
                {
                    return Task.FromResult((TResult)(object)attempt(++_attempts));
                }
                catch (TaskFailedException e)
                {
                    return Task.FromException<TResult>(e);
                }
            }

            return Task.FromResult(default(TResult)!);
        }

        public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
        {
            Waits.Add(fireAt - _now);
            _now = fireAt;
            return Task.CompletedTask;
        }

        public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override void SendEvent(string instanceId, string eventName, object payload) => throw new NotSupportedException();

        public override void SetCustomStatus(object? customStatus) => CustomStatus = customStatus;

        public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) => throw new NotSupportedException();

        public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) => throw new NotSupportedException();

        public override Guid NewGuid() => Guid.NewGuid();
    }
}
