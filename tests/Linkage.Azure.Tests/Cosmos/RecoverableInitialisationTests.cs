using System.Net;
using Linkage.Azure.Cosmos;
using Linkage.Azure.Tests.Infrastructure;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Tests.Cosmos;

/// <summary>
/// A failed or cancelled first creation of a Cosmos container must not break the instance: the same
/// <see cref="CosmosDatabase"/> recovers once the stand-in answers again, and a caller that gives up does not cancel the
/// creation for the others. The outage is real: the client talks to the stand-in through a <see cref="TcpGate"/>.
/// </summary>
[Collection(LocalStackCollection.Name)]
public class RecoverableInitialisationTests(LocalStackFixture stack)
{
    private static readonly CosmosConnectionOptions FastFailing = new() { RequestTimeout = TimeSpan.FromSeconds(5) };

    private (CosmosClient Client, CosmosDatabase Database) Through(TcpGate gate) =>
        Open(CosmosClientFactory.Create(new Uri(gate.Rewrite(stack.Stack.CosmosEndpoint)), stack.Stack.CosmosKey, FastFailing));

    private static (CosmosClient Client, CosmosDatabase Database) Open(CosmosClient client) =>
        (client, new CosmosDatabase(client, LocalStackFixture.UniqueName("db"), TimeSpan.FromSeconds(60)));

    [Fact]
    public async Task A_container_whose_first_creation_failed_is_created_by_the_next_call_once_cosmos_is_back()
    {
        await using var gate = new TcpGate(new Uri(stack.Stack.CosmosEndpoint).Port, GateMode.Refuse);
        var (client, database) = Through(gate);
        using var _ = client;
        using var __ = database;

        using (var first = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => database.ContainerAsync("things", "/pk", first.Token));
        }

        gate.Mode = GateMode.Open;
        var container = await RetryUntilAsync(() => database.ContainerAsync("things", "/pk", CancellationToken.None), TimeSpan.FromSeconds(60));
        var written = await container.CreateItemAsync(new { id = "a", pk = "p" }, new PartitionKey("p"));
        Assert.Equal(HttpStatusCode.Created, written.StatusCode);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_creation_for_the_others()
    {
        await using var gate = new TcpGate(new Uri(stack.Stack.CosmosEndpoint).Port, GateMode.Hold);
        var (client, database) = Through(gate);
        using var _ = client;
        using var __ = database;

        using var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var first = database.ContainerAsync("things", "/pk", impatient.Token);
        var patient = database.ContainerAsync("things", "/pk", CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        gate.Mode = GateMode.Open;
        var container = await patient.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("things", container.Id);

        // And a caller after the cancelled one is not handed a cancelled result either.
        Assert.Same(container, await database.ContainerAsync("things", "/pk", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_cancelled_first_caller_alone_does_not_poison_the_cache()
    {
        await using var gate = new TcpGate(new Uri(stack.Stack.CosmosEndpoint).Port, GateMode.Hold);
        var (client, database) = Through(gate);
        using var _ = client;
        using var __ = database;

        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => database.ContainerAsync("things", "/pk", impatient.Token));
        }

        gate.Mode = GateMode.Open;
        var container = await database.ContainerAsync("things", "/pk", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("things", container.Id);
    }

    [Fact]
    public async Task An_initialisation_that_failed_is_retried_and_a_success_is_kept()
    {
        int calls = 0;
        using var lazy = new RecoverableAsyncLazy<int>(async ct =>
        {
            await Task.Yield();
            return Interlocked.Increment(ref calls) == 1 ? throw new HttpRequestException("down") : calls;
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => lazy.GetAsync(CancellationToken.None));
        Assert.False(lazy.TryGetValue(out _));
        Assert.Equal(2, await lazy.GetAsync(CancellationToken.None));
        Assert.Equal(2, await lazy.GetAsync(CancellationToken.None));
        Assert.Equal(2, calls);
        Assert.True(lazy.TryGetValue(out int value));
        Assert.Equal(2, value);
    }

    [Fact]
    public async Task An_initialisation_that_timed_out_is_retried()
    {
        int calls = 0;
        using var lazy = new RecoverableAsyncLazy<int>(
            async ct =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    await Task.Delay(Timeout.Infinite, ct); // hangs until its own timeout
                }

                return calls;
            },
            TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lazy.GetAsync(CancellationToken.None));
        Assert.Equal(2, await lazy.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_callers_share_one_initialisation()
    {
        int calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var lazy = new RecoverableAsyncLazy<int>(async ct =>
        {
            Interlocked.Increment(ref calls);
            await release.Task.WaitAsync(ct);
            return 7;
        });

        var waiting = Enumerable.Range(0, 8).Select(_ => lazy.GetAsync(CancellationToken.None)).ToList();
        release.SetResult();
        Assert.All(await Task.WhenAll(waiting), v => Assert.Equal(7, v));
        Assert.Equal(1, calls);
    }

    private static async Task<T> RetryUntilAsync<T>(Func<Task<T>> action, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // a failure left over from the outage; the cache must let the next call through
            }
        }
    }
}
