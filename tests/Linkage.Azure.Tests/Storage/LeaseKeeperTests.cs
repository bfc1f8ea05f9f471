using System.Collections.Concurrent;
using System.Diagnostics;
using Azure;
using Linkage.Azure.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Linkage.Azure.Tests.Storage;

/// <summary>The lease keeper cancels the work in time whatever way renewal fails, and only then.</summary>
[Collection(TimingSensitiveCollection.Name)]
public class LeaseKeeperTests
{
    // Renewal every 2 s, each call abandoned after 1 s, a retry 0.6 s after a failure while it can still end 1 s before
    // expiry. Long enough that a loaded two-core machine's late timers (seen: 0.7 s) stay inside the margins asserted.
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Every = Lease / 3;
    private static readonly TimeSpan CallTimeout = Lease / 6;

    private static LeaseKeeper Keep(Func<CancellationToken, Task> renew, CancellationToken cancellationToken = default) =>
        new(renew, Lease, NullLogger.Instance, TimeProvider.System, cancellationToken);

    /// <summary>When <paramref name="token"/> is cancelled, on <paramref name="clock"/>; fails the test after <paramref name="within"/>.</summary>
    private static async Task<TimeSpan> CancelledAtAsync(CancellationToken token, Stopwatch clock, TimeSpan within)
    {
        var cancelled = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.Register(() => cancelled.TrySetResult(clock.Elapsed));
        try
        {
            return await cancelled.Task.WaitAsync(within);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The work was not cancelled within {within.TotalSeconds} s.");
            throw;
        }
    }

    private static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private static Exception Failure(string kind) => kind switch
    {
        "http" => new HttpRequestException("Connection reset by peer"),
        "invalid" => new InvalidOperationException("The transport is in a bad state"),
        "503" => new RequestFailedException(503, "Server busy"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    [Theory]
    [InlineData("http")]
    [InlineData("invalid")]
    [InlineData("503")]
    public async Task Renewal_failing_again_and_again_cancels_the_work_before_the_lease_runs_out(string kind)
    {
        var clock = Stopwatch.StartNew(); // started before the keeper: the lease is taken to date from here
        var failures = new ConcurrentQueue<(Exception Error, TimeSpan At)>();
        await using var keeper = Keep(_ =>
        {
            var error = Failure(kind);
            failures.Enqueue((error, clock.Elapsed));
            return Task.FromException(error);
        });

        var cancelledAt = await CancelledAtAsync(keeper.Token, clock, within: 2 * Lease);

        Assert.True(cancelledAt < Lease, $"Cancelled at {cancelledAt.TotalSeconds:F2} s, after the {Lease.TotalSeconds} s lease ran out.");
        var first = failures.First();
        Assert.True(first.At >= Every * 0.9, $"The first renewal came at {first.At.TotalSeconds:F2} s, before a third of the lease.");
        Assert.InRange(cancelledAt - first.At, TimeSpan.Zero, Lease);
        Assert.Same(failures.Last().Error, keeper.LossReason);
        Assert.IsType(Failure(kind).GetType(), keeper.LossReason);

        // Once the work is stopped, nothing more is tried.
        int calls = failures.Count;
        await Task.Delay(2 * Every);
        Assert.Equal(calls, failures.Count);
    }

    [Fact]
    public async Task A_renewal_that_hangs_is_abandoned_by_its_own_timeout_and_the_work_cancelled()
    {
        var clock = Stopwatch.StartNew();
        var abandonedAfter = new ConcurrentQueue<TimeSpan>();
        await using var keeper = Keep(async ct =>
        {
            var start = clock.Elapsed;
            try
            {
                await Task.Delay(Timeout.Infinite, ct); // a call that never answers
            }
            finally
            {
                abandonedAfter.Enqueue(clock.Elapsed - start);
            }
        });

        await CancelledAtAsync(keeper.Token, clock, within: 2 * Lease);

        // Every hung call was given up by its own timeout (a sixth of the lease), well before the next renewal was due.
        Assert.NotEmpty(abandonedAfter);
        Assert.All(abandonedAfter, after => Assert.InRange(after, CallTimeout * 0.8, Every));
        Assert.IsAssignableFrom<OperationCanceledException>(keeper.LossReason);
    }

    [Fact]
    public async Task When_every_renewal_hangs_the_work_is_cancelled_before_the_lease_runs_out()
    {
        // On a clock the test moves, each hung call lasts exactly its timeout: no scheduling delay decides the outcome.
        var clock = new ManualClock();
        using var entered = new SemaphoreSlim(0);
        using var abandoned = new SemaphoreSlim(0);
        await using var keeper = new LeaseKeeper(
            async ct =>
            {
                entered.Release();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    abandoned.Release();
                }
            },
            Lease, NullLogger.Instance, clock, CancellationToken.None);

        var patience = TimeSpan.FromSeconds(5);
        int calls = 0;
        while (!keeper.Token.IsCancellationRequested && clock.Now < 2 * Lease)
        {
            Assert.True(await UntilAsync(() => clock.PendingTimers > 0, patience), "The keeper set no timer for its next renewal.");
            clock.AdvanceToNextTimer(); // to the renewal, or the retry after a failed one
            Assert.True(await entered.WaitAsync(patience), $"No renewal at {clock.Now.TotalSeconds} s.");
            calls++;
            clock.Advance(CallTimeout); // the call hangs for as long as its timeout allows...
            Assert.True(await abandoned.WaitAsync(patience), "A hung renewal was never abandoned."); // ...and is abandoned
            await UntilAsync(() => keeper.Token.IsCancellationRequested || clock.PendingTimers > 0, patience);
        }

        // The clock moves only while the keeper waits for its next renewal, so it still reads the time of the cancellation.
        var cancelledAt = clock.Now;
        Assert.True(keeper.Token.IsCancellationRequested, $"Not cancelled after {calls} hung renewals, at {cancelledAt.TotalSeconds} s.");
        Assert.True(cancelledAt < Lease, $"Cancelled at {cancelledAt.TotalSeconds} s after {calls} hung renewals: not before the {Lease.TotalSeconds} s lease ran out.");
        Assert.IsAssignableFrom<OperationCanceledException>(keeper.LossReason);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("invalid")]
    [InlineData("503")]
    public async Task Isolated_transient_failures_between_successful_renewals_do_not_cancel_the_work(string kind)
    {
        // On a clock the test moves: a loaded machine's late timers must not decide the outcome.
        var clock = new ManualClock();
        int calls = 0;
        await using var keeper = new LeaseKeeper(
            _ =>
            {
                // The first and the third renewal fail; each is followed by a successful one.
                int call = Interlocked.Increment(ref calls);
                return call is 1 or 3 ? Task.FromException(Failure(kind)) : Task.CompletedTask;
            },
            Lease, NullLogger.Instance, clock, CancellationToken.None);

        var patience = TimeSpan.FromSeconds(5);
        for (int i = 0; i < 4 && !keeper.Token.IsCancellationRequested; i++)
        {
            Assert.True(await UntilAsync(() => clock.PendingTimers > 0 || keeper.Token.IsCancellationRequested, patience), "The keeper set no timer for its next renewal.");
            int before = Volatile.Read(ref calls);
            clock.AdvanceToNextTimer();
            await UntilAsync(() => Volatile.Read(ref calls) > before || keeper.Token.IsCancellationRequested, patience);
        }

        Assert.False(keeper.Token.IsCancellationRequested, $"Cancelled ({keeper.LossReason?.Message}) after {Volatile.Read(ref calls)} renewals, at {clock.Now.TotalSeconds} s.");
        Assert.Equal(4, Volatile.Read(ref calls));
        Assert.True(clock.Now < Lease, $"Four renewals took until {clock.Now.TotalSeconds} s of a {Lease.TotalSeconds} s lease."); // the retries came quickly
        Assert.Null(keeper.LossReason);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(412)]
    public async Task A_refused_renewal_cancels_the_work_at_the_first_failure(int status)
    {
        var clock = Stopwatch.StartNew();
        int calls = 0;
        var refusal = new RequestFailedException(status, "There is currently no lease on the blob / the lease ID does not match.");
        await using var keeper = Keep(_ =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromException(refusal);
        });

        var cancelledAt = await CancelledAtAsync(keeper.Token, clock, within: Lease);

        // Cancelled at the first renewal (due at a third of the lease), not after a retry.
        Assert.True(cancelledAt < 2 * Every, $"Cancelled at {cancelledAt.TotalSeconds:F2} s, after the second renewal was due.");
        Assert.Same(refusal, keeper.LossReason);
        await Task.Delay(2 * Every);
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task Disposing_stops_renewals_and_does_not_throw()
    {
        int calls = 0;
        await using var keeper = Keep(_ =>
        {
            Interlocked.Increment(ref calls);
            return Task.CompletedTask;
        });
        var token = keeper.Token;
        Assert.True(await UntilAsync(() => Volatile.Read(ref calls) >= 1, within: 2 * Lease), "No renewal at all.");

        await keeper.DisposeAsync();
        int atDispose = Volatile.Read(ref calls);
        await Task.Delay(2 * Every);

        Assert.Equal(atDispose, Volatile.Read(ref calls));
        Assert.True(token.IsCancellationRequested);
        Assert.Null(keeper.LossReason);
        await keeper.DisposeAsync(); // again (and once more at the end of the scope): harmless
    }

    [Fact]
    public async Task Disposing_during_a_renewal_call_abandons_it_quietly()
    {
        int calls = 0;
        var inCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keeper = Keep(async ct =>
        {
            Interlocked.Increment(ref calls);
            inCall.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        await inCall.Task.WaitAsync(2 * Lease);

        var clock = Stopwatch.StartNew();
        await keeper.DisposeAsync();

        Assert.True(clock.Elapsed < CallTimeout, $"Disposing took {clock.Elapsed.TotalSeconds:F2} s: it waited for the call's own timeout.");
        Assert.Null(keeper.LossReason);
        await Task.Delay(2 * Every);
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task Disposing_while_a_renewal_fails_does_not_throw()
    {
        var inCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var keeper = Keep(_ =>
        {
            inCall.TrySetResult();
            return answer.Task; // the call ignores cancellation and answers when the test says
        });
        await inCall.Task.WaitAsync(2 * Lease);

        // The work is done and the keeper is disposed just as the renewal comes back refused (the lease had gone).
        var disposing = keeper.DisposeAsync().AsTask();
        answer.SetException(new RequestFailedException(409, "The lease ID specified did not match the lease ID for the blob."));

        var thrown = await Record.ExceptionAsync(() => disposing.WaitAsync(Lease));
        Assert.True(thrown is null, $"Disposing threw {thrown?.GetType().Name}: {thrown?.Message}");
    }

    [Fact]
    public async Task Cancelling_the_callers_token_cancels_the_work_without_a_loss_and_stops_renewals()
    {
        int calls = 0;
        using var caller = new CancellationTokenSource();
        await using var keeper = Keep(_ =>
        {
            Interlocked.Increment(ref calls);
            return Task.CompletedTask;
        }, caller.Token);
        await Task.Delay(Every + Every / 2);

        await caller.CancelAsync();

        Assert.True(keeper.Token.IsCancellationRequested);
        int atCancel = Volatile.Read(ref calls);
        Assert.True(atCancel >= 1, "No renewal before the caller cancelled.");
        await Task.Delay(2 * Every);
        Assert.Equal(atCancel, Volatile.Read(ref calls));
        Assert.Null(keeper.LossReason);
    }
}

/// <summary>Tests that assert timings: run alone, after the parallel ones, so other tests' load does not skew them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveCollection
{
    public const string Name = "Timing-sensitive";
}

/// <summary>A clock the test moves by hand; its timers fire when it is moved past their due time.</summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    public TimeSpan Now => TimeSpan.FromTicks(GetTimestamp());

    public int PendingTimers
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count(t => t.Due is not null);
            }
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch + Now;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock to the earliest pending timer and fires it.</summary>
    public void AdvanceToNextTimer()
    {
        long next;
        lock (_lock)
        {
            next = _timers.Where(t => t.Due is not null).Min(t => t.Due!.Value);
        }

        Advance(TimeSpan.FromTicks(Math.Max(0, next - GetTimestamp())));
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_lock)
        {
            _ticks += by.Ticks;
            due = _timers.Where(t => t.Due <= _ticks).ToList();
            foreach (var t in due)
            {
                t.Due = t.Period is { } period ? _ticks + period : null;
            }
        }

        foreach (var t in due)
        {
            t.Fire();
        }
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long? Due { get; set; }

        public long? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._ticks + dueTime.Ticks;
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period.Ticks;
            }

            return true;
        }

        public void Dispose()
        {
            lock (clock._lock)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
