using Linkage.LocalHost;
using Linkage.LocalHost.Triggers;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Linkage.Functions.Tests.LocalHost;

[Collection(LocalStackCollection.Name)]
public class QueueTriggerListenerTests(LocalStackFixture stack)
{
    private static readonly LocalHostOptions Options = new()
    {
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(100),
    };

    [Fact]
    public async Task A_message_is_handled_once_and_deleted()
    {
        string queueName = LocalStackFixture.UniqueName("q");
        var queues = stack.CreateQueueServiceClient();
        var function = new RecordingQueueFunction(queueName, alwaysFail: false);
        var listener = new QueueTriggerListener(function, queues, Options, TimeProvider.System, NullLogger<QueueTriggerListener>.Instance);
        var queue = queues.GetQueueClient(queueName);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("{\"workflow\":\"quarterly\"}");

        Assert.Equal(1, await listener.ReceiveOnceAsync(CancellationToken.None));
        Assert.Equal(0, await listener.ReceiveOnceAsync(CancellationToken.None));
        var run = Assert.Single(function.Runs);
        Assert.Equal("{\"workflow\":\"quarterly\"}", run.Body);
        Assert.Equal(1, run.DequeueCount);
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task A_failing_message_goes_to_the_poison_queue_after_max_attempts()
    {
        string queueName = LocalStackFixture.UniqueName("q");
        var queues = stack.CreateQueueServiceClient();
        var function = new RecordingQueueFunction(queueName, alwaysFail: true);
        var listener = new QueueTriggerListener(function, queues, Options, TimeProvider.System, NullLogger<QueueTriggerListener>.Instance);
        var queue = queues.GetQueueClient(queueName);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("poison me");

        for (int i = 0; i < 60 && function.Runs.Count < Options.MaxAttempts; i++)
        {
            await listener.ReceiveOnceAsync(CancellationToken.None);
            await Task.Delay(60);
        }

        Assert.Equal([1L, 2L, 3L, 4L, 5L], function.Runs.Select(r => r.DequeueCount));
        var poison = queues.GetQueueClient(QueueTriggerListener.PoisonQueueNameFor(queueName));
        var moved = (await poison.ReceiveMessagesAsync(10)).Value;
        Assert.Equal("poison me", Assert.Single(moved).Body.ToString());
        await Task.Delay(200);
        Assert.Equal(0, await listener.ReceiveOnceAsync(CancellationToken.None));
    }
}
