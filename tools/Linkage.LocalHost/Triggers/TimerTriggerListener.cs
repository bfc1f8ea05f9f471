using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Cronos;
using Linkage.Azure.Storage;
using Microsoft.Extensions.Logging;

namespace Linkage.LocalHost.Triggers;

/// <summary>
/// Follows the Azure Functions timer trigger: a singleton across instances through a blob lease on
/// <c>locks/&lt;host&gt;/&lt;function&gt;.listener</c>; the schedule status (last and next occurrence) is kept in
/// <c>timers/&lt;host&gt;/&lt;function&gt;/status</c>, so an occurrence missed while the app was down runs once, past due,
/// when an instance comes back.
/// </summary>
public sealed class TimerTriggerListener(
    ITimerFunction function,
    BlobContainerClient hostContainer,
    LocalHostOptions options,
    TimeProvider time,
    ILogger<TimerTriggerListener> logger)
{
    private readonly CronExpression _schedule = ParseSchedule(((TimerTriggerDefinition)function.Definition.Trigger).Schedule);

    private BlobClient LockBlob => hostContainer.GetBlobClient($"locks/{options.HostId}/{function.Definition.Name}.listener");

    private BlobClient StatusBlob => hostContainer.GetBlobClient($"timers/{options.HostId}/{function.Definition.Name}/status");

    public static CronExpression ParseSchedule(string schedule) =>
        CronExpression.Parse(schedule, schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await hostContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        try
        {
            await LockBlob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // exists
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var lease = LockBlob.GetBlobLeaseClient();
            long acquiredAt;
            try
            {
                acquiredAt = TimeProvider.System.GetTimestamp();
                await lease.AcquireAsync(options.LeaseDuration, cancellationToken: cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                await Task.Delay(options.TimerPollInterval, time, cancellationToken);
                continue; // another instance is the singleton
            }

            logger.LogInformation("This instance now runs timer {Function}", function.Definition.Name);
            await using (var keeper = new LeaseKeeper(lease, options.LeaseDuration, logger, cancellationToken, acquiredAt))
            {
                try
                {
                    while (!keeper.Token.IsCancellationRequested)
                    {
                        await TickAsync(keeper.Token);
                        await Task.Delay(options.TimerPollInterval, time, keeper.Token);
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // lease lost: compete for it again
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Timer {Function} loop failed; competing for the lease again", function.Definition.Name);
                }
            }

            try
            {
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException)
            {
            }
        }
    }

    /// <summary>One check of the schedule by the lease holder: runs the due occurrence, if any.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (status, etag) = await ReadStatusAsync(cancellationToken);
        if (status is null)
        {
            await WriteStatusAsync(new TimerScheduleStatus(null, NextAfter(now), now), null, cancellationToken);
            return;
        }

        if (now < status.Next)
        {
            return;
        }

        var occurrence = status.Next;
        bool pastDue = now - occurrence > options.TimerPollInterval + TimeSpan.FromSeconds(5);
        var next = NextAfter(now); // missed occurrences collapse into this one run, as in Functions
        try
        {
            logger.LogInformation("Timer {Function} firing for {Occurrence:O}{PastDue}", function.Definition.Name, occurrence, pastDue ? " (past due)" : "");
            await function.RunAsync(new TimerTriggerContext(occurrence, pastDue, status.Last, next), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Timer {Function} failed for {Occurrence:O}; next run {Next:O}", function.Definition.Name, occurrence, next);
        }

        await WriteStatusAsync(new TimerScheduleStatus(occurrence, next, time.GetUtcNow()), etag, cancellationToken);
    }

    public async Task<TimerScheduleStatus?> GetStatusAsync(CancellationToken cancellationToken) => (await ReadStatusAsync(cancellationToken)).Status;

    private DateTimeOffset NextAfter(DateTimeOffset from) =>
        _schedule.GetNextOccurrence(from, TimeZoneInfo.Utc) ?? throw new InvalidOperationException($"Schedule of {function.Definition.Name} has no future occurrence.");

    private async Task<(TimerScheduleStatus? Status, ETag? ETag)> ReadStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = await StatusBlob.DownloadContentAsync(cancellationToken);
            return (result.Value.Content.ToObjectFromJson<TimerScheduleStatus>(), result.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, null);
        }
    }

    private async Task WriteStatusAsync(TimerScheduleStatus status, ETag? etag, CancellationToken cancellationToken)
    {
        var conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        await StatusBlob.UploadAsync(BinaryData.FromObjectAsJson(status, JsonOptions), new BlobUploadOptions { Conditions = conditions }, cancellationToken);
    }

    private static readonly JsonSerializerOptions JsonOptions = new();
}

/// <summary>The timer's schedule status, shaped like the Functions host's (Last, Next, LastUpdated).</summary>
public sealed record TimerScheduleStatus(DateTimeOffset? Last, DateTimeOffset Next, DateTimeOffset LastUpdated);
