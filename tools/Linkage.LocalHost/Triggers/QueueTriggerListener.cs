using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace Linkage.LocalHost.Triggers;

/// <summary>
/// Follows the Azure Functions queue trigger: messages are received with a visibility timeout (so a crashed instance's
/// message reappears), deleted on success, made visible again after a backoff on failure, and moved to
/// <c>&lt;queue&gt;-poison</c> once their dequeue count reaches <see cref="LocalHostOptions.MaxAttempts"/>.
/// </summary>
public sealed class QueueTriggerListener(
    IQueueFunction function,
    QueueServiceClient queues,
    LocalHostOptions options,
    TimeProvider time,
    ILogger<QueueTriggerListener> logger)
{
    /// <summary>How long a received message stays invisible to others while this instance works on it.</summary>
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromMinutes(5);

    private readonly QueueTriggerDefinition _trigger = (QueueTriggerDefinition)function.Definition.Trigger;

    public static string PoisonQueueNameFor(string queueName) => queueName + "-poison";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var queue = queues.GetQueueClient(_trigger.QueueName);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            int handled = 0;
            try
            {
                handled = await ReceiveOnceAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Receiving from {Queue} for {Function} failed; trying again", _trigger.QueueName, function.Definition.Name);
            }

            if (handled == 0)
            {
                await Task.Delay(options.QueuePollInterval, time, cancellationToken);
            }
        }
    }

    /// <summary>Receives one batch and handles each message; returns how many were received.</summary>
    public async Task<int> ReceiveOnceAsync(CancellationToken cancellationToken)
    {
        var queue = queues.GetQueueClient(_trigger.QueueName);
        QueueMessage[] messages = (await queue.ReceiveMessagesAsync(16, VisibilityTimeout, cancellationToken)).Value;
        foreach (var message in messages)
        {
            await HandleAsync(queue, message, cancellationToken);
        }

        return messages.Length;
    }

    private async Task HandleAsync(QueueClient queue, QueueMessage message, CancellationToken cancellationToken)
    {
        string fn = function.Definition.Name;
        if (message.DequeueCount > options.MaxAttempts)
        {
            // Seen too often already (e.g. an instance crashed each time): poison without another try.
            await PoisonAsync(queue, message, cancellationToken);
            return;
        }

        try
        {
            await function.RunAsync(new QueueTriggerContext(_trigger.QueueName, message.MessageId, message.Body.ToString(), message.DequeueCount), cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            if (message.DequeueCount >= options.MaxAttempts)
            {
                logger.LogError(e, "{Function} failed on message {MessageId} {Count} times; moving it to {Poison}", fn, message.MessageId, message.DequeueCount, PoisonQueueNameFor(_trigger.QueueName));
                await PoisonAsync(queue, message, cancellationToken);
            }
            else
            {
                var delay = options.RetryDelayFor((int)message.DequeueCount);
                logger.LogWarning(e, "{Function} failed on message {MessageId} (try {Count}); visible again in {Delay}", fn, message.MessageId, message.DequeueCount, delay);
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: delay, cancellationToken: cancellationToken);
            }
        }
    }

    private async Task PoisonAsync(QueueClient queue, QueueMessage message, CancellationToken cancellationToken)
    {
        var poison = queues.GetQueueClient(PoisonQueueNameFor(_trigger.QueueName));
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
    }
}
