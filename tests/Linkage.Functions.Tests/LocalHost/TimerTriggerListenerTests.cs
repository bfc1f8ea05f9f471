using Azure.Storage.Blobs;
using Linkage.LocalHost;
using Linkage.LocalHost.Triggers;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Linkage.Functions.Tests.LocalHost;

[Collection(LocalStackCollection.Name)]
public class TimerTriggerListenerTests(LocalStackFixture stack)
{
    private TimerTriggerListener NewHost(ITimerFunction function, BlobContainerClient hostContainer, string hostId) =>
        new(function, hostContainer, new LocalHostOptions
        {
            HostId = hostId,
            TimerPollInterval = TimeSpan.FromMilliseconds(200),
            LeaseDuration = TimeSpan.FromSeconds(15),
        }, TimeProvider.System, NullLogger<TimerTriggerListener>.Instance);

    [Fact]
    public async Task With_two_hosts_each_occurrence_fires_exactly_once()
    {
        var hostContainer = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("hosts"));
        string hostId = LocalStackFixture.UniqueName("host");
        var function = new RecordingTimerFunction("*/2 * * * * *"); // every 2 seconds
        var a = NewHost(function, hostContainer, hostId);
        var b = NewHost(function, hostContainer, hostId);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(9));
        await Task.WhenAll(Swallow(a.RunAsync(cts.Token)), Swallow(b.RunAsync(cts.Token)));

        var runs = function.Runs.ToArray();
        Assert.InRange(runs.Length, 2, 5); // 9 s of a 2-second schedule, whatever the machine's load
        Assert.Equal(runs.Length, runs.Select(r => r.ScheduledTime).Distinct().Count());
        Assert.All(runs, r => Assert.Equal(0, r.ScheduledTime.Second % 2));
    }

    [Fact]
    public async Task After_downtime_a_missed_occurrence_runs_once_past_due()
    {
        var hostContainer = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("hosts"));
        await hostContainer.CreateIfNotExistsAsync();
        string hostId = LocalStackFixture.UniqueName("host");
        var function = new RecordingTimerFunction("0 0 * * * *"); // hourly
        var listener = NewHost(function, hostContainer, hostId);

        // The app last ran three hours ago: three hourly occurrences were missed while it was down.
        var lastRun = DateTimeOffset.UtcNow.AddHours(-3);
        var missed = new DateTimeOffset(lastRun.Year, lastRun.Month, lastRun.Day, lastRun.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        var status = new TimerScheduleStatus(missed.AddHours(-1), missed, lastRun);
        await hostContainer.GetBlobClient($"timers/{hostId}/{function.Definition.Name}/status").UploadAsync(BinaryData.FromObjectAsJson(status));

        await listener.TickAsync(CancellationToken.None);
        await listener.TickAsync(CancellationToken.None);

        var run = Assert.Single(function.Runs);
        Assert.True(run.IsPastDue);
        Assert.Equal(missed, run.ScheduledTime);
        var after = await listener.GetStatusAsync(CancellationToken.None);
        Assert.NotNull(after);
        Assert.Equal(missed, after.Last);
        Assert.True(after.Next > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task First_start_schedules_without_firing()
    {
        var hostContainer = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("hosts"));
        await hostContainer.CreateIfNotExistsAsync();
        var function = new RecordingTimerFunction("0 0 1 1 *"); // yearly, five-field cron
        var listener = NewHost(function, hostContainer, LocalStackFixture.UniqueName("host"));
        await listener.TickAsync(CancellationToken.None);
        Assert.Empty(function.Runs);
        var status = await listener.GetStatusAsync(CancellationToken.None);
        Assert.NotNull(status);
        Assert.Null(status.Last);
        Assert.Equal(1, status.Next.Month);
        Assert.Equal(1, status.Next.Day);
    }

    private static async Task Swallow(Task t)
    {
        try
        {
            await t;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
