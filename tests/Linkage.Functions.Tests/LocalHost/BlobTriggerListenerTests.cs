using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using Linkage.LocalHost;
using Linkage.LocalHost.Triggers;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Linkage.Functions.Tests.LocalHost;

/// <summary>The local blob trigger against Azurite: once per version across hosts, retries, poison, crashed tries, lost leases.</summary>
[Collection(LocalStackCollection.Name)]
public class BlobTriggerListenerTests(LocalStackFixture stack)
{
    private static LocalHostOptions FastOptions(string hostId) => new()
    {
        HostId = hostId,
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(200),
        MaxConcurrentBlobs = 4,
        LeaseDuration = TimeSpan.FromSeconds(15),
    };

    private (BlobTriggerListener Listener, BlobServiceClient Blobs) NewHost(IBlobFunction function, LocalHostOptions options, TimeProvider? time = null)
    {
        var blobs = stack.CreateBlobServiceClient();
        QueueServiceClient queues = stack.CreateQueueServiceClient();
        var receipts = new BlobReceiptStore(blobs.GetBlobContainerClient(options.HostContainer), options.HostId);
        return (new BlobTriggerListener(function, blobs, queues, receipts, options, time ?? TimeProvider.System, NullLogger<BlobTriggerListener>.Instance), blobs);
    }

    private static BlobReceiptStore Receipts(BlobServiceClient blobs, LocalHostOptions options) =>
        new(blobs.GetBlobContainerClient(options.HostContainer), options.HostId);

    private async Task<QueueClient> EmptyPoisonQueueAsync()
    {
        var poison = stack.CreateQueueServiceClient().GetQueueClient(BlobTriggerListener.PoisonQueueName);
        await poison.CreateIfNotExistsAsync();
        await poison.ClearMessagesAsync();
        return poison;
    }

    private static async Task<JsonElement[]> PoisonMessagesForAsync(QueueClient poison, string container) =>
        (await poison.PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(m => m.GetProperty("ContainerName").GetString() == container)
            .ToArray();

    [Fact]
    public async Task Two_hosts_process_each_blob_version_exactly_once_and_a_new_etag_again()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        string hostId = LocalStackFixture.UniqueName("host");
        var function = new RecordingBlobFunction(container, work: TimeSpan.FromMilliseconds(30));
        var (a, blobs) = NewHost(function, FastOptions(hostId));
        var (b, _) = NewHost(function, FastOptions(hostId));
        var containerClient = blobs.GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync();
        for (int i = 0; i < 12; i++)
        {
            await containerClient.UploadBlobAsync($"S{i % 3}/file{i}.csv", BinaryData.FromString($"content {i}"));
        }

        // A blob outside the pattern (no study folder) is never processed.
        await containerClient.UploadBlobAsync("stray.csv", BinaryData.FromString("x"));

        // Both hosts scan the same storage at the same time, several times over.
        for (int round = 0; round < 3; round++)
        {
            await Task.WhenAll(a.ScanOnceAsync(CancellationToken.None), b.ScanOnceAsync(CancellationToken.None));
        }

        var runs = function.Runs.ToArray();
        Assert.Equal(12, runs.Length);
        Assert.Equal(12, runs.Select(r => (r.Name, r.ETag)).Distinct().Count());
        Assert.DoesNotContain(runs, r => r.Name == "stray.csv");

        // Overwrite one blob: a new ETag is a new version, processed once more.
        await containerClient.GetBlobClient("S1/file1.csv").UploadAsync(BinaryData.FromString("changed"), overwrite: true);
        await Task.WhenAll(a.ScanOnceAsync(CancellationToken.None), b.ScanOnceAsync(CancellationToken.None));
        await Task.WhenAll(a.ScanOnceAsync(CancellationToken.None), b.ScanOnceAsync(CancellationToken.None));
        runs = function.Runs.ToArray();
        Assert.Equal(13, runs.Length);
        Assert.Equal(2, runs.Count(r => r.Name == "S1/file1.csv"));
        Assert.Equal(2, runs.Where(r => r.Name == "S1/file1.csv").Select(r => r.ETag).Distinct().Count());
    }

    [Fact]
    public async Task A_new_host_instance_does_not_redo_completed_versions()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        string hostId = LocalStackFixture.UniqueName("host");
        var first = new RecordingBlobFunction(container);
        var (a, blobs) = NewHost(first, FastOptions(hostId));
        await blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync();
        await blobs.GetBlobContainerClient(container).UploadBlobAsync("S/a.csv", BinaryData.FromString("a"));
        await a.ScanOnceAsync(CancellationToken.None);
        Assert.Single(first.Runs);

        // A restarted app (fresh in-memory state) reads the receipts and skips the version.
        var second = new RecordingBlobFunction(container);
        var (restarted, _) = NewHost(second, FastOptions(hostId));
        await restarted.ScanOnceAsync(CancellationToken.None);
        Assert.Empty(second.Runs);
    }

    [Fact]
    public async Task A_failing_blob_is_retried_with_backoff_then_poisoned_and_left_untouched()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        string hostId = LocalStackFixture.UniqueName("host");
        var function = new RecordingBlobFunction(container, fail: _ => true);
        var options = FastOptions(hostId);
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var (listener, blobs) = NewHost(function, options, clock);
        var containerClient = blobs.GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync();
        var upload = await containerClient.GetBlobClient("S/bad.csv").UploadAsync(BinaryData.FromString("bad content"));

        var poison = stack.CreateQueueServiceClient().GetQueueClient(BlobTriggerListener.PoisonQueueName);
        await poison.CreateIfNotExistsAsync();
        await poison.ClearMessagesAsync();

        // Rescanning before the backoff has passed does not retry.
        await listener.ScanOnceAsync(CancellationToken.None);
        await listener.ScanOnceAsync(CancellationToken.None);
        Assert.Single(function.Runs);

        // Each time the backoff (doubling from 50 ms, capped at 200 ms) passes, one more try.
        for (int i = 0; i < 10 && function.Runs.Count < options.MaxAttempts; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await listener.ScanOnceAsync(CancellationToken.None);
        }

        Assert.Equal([1, 2, 3, 4, 5], function.Runs.Select(r => r.Attempt));

        // Poisoned: no more tries, a poison message names the blob, and the blob is unchanged.
        clock.Advance(TimeSpan.FromMinutes(5));
        await listener.ScanOnceAsync(CancellationToken.None);
        Assert.Equal(5, function.Runs.Count);
        var messages = (await poison.ReceiveMessagesAsync(32)).Value;
        var mine = messages.Where(m => m.Body.ToString().Contains(container, StringComparison.Ordinal)).ToArray();
        Assert.Single(mine);
        Assert.Contains("S/bad.csv", mine[0].Body.ToString(), StringComparison.Ordinal);
        var props = await containerClient.GetBlobClient("S/bad.csv").GetPropertiesAsync();
        Assert.Equal(upload.Value.ETag, props.Value.ETag);
        Assert.Equal("bad content", (await containerClient.GetBlobClient("S/bad.csv").DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task A_transient_failure_succeeds_on_retry_without_poison()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        var function = new RecordingBlobFunction(container, fail: c => c.Attempt < 3);
        var (listener, blobs) = NewHost(function, FastOptions(LocalStackFixture.UniqueName("host")));
        await blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync();
        await blobs.GetBlobContainerClient(container).UploadBlobAsync("S/flaky.csv", BinaryData.FromString("x"));
        for (int i = 0; i < 30 && function.Runs.Count < 3; i++)
        {
            await listener.ScanOnceAsync(CancellationToken.None);
            await Task.Delay(100);
        }

        await Task.Delay(300);
        await listener.ScanOnceAsync(CancellationToken.None);
        Assert.Equal([1, 2, 3], function.Runs.Select(r => r.Attempt));
    }

    [Fact]
    public async Task A_version_whose_every_try_crashed_the_host_is_poisoned_on_the_next_scan_without_running()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        var function = new RecordingBlobFunction(container);
        var options = FastOptions(LocalStackFixture.UniqueName("host"));
        var (listener, blobs) = NewHost(function, options);
        var containerClient = blobs.GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync();
        var etag = (await containerClient.GetBlobClient("S/crash.csv").UploadAsync(BinaryData.FromString("kills the host"))).Value.ETag;
        var poison = await EmptyPoisonQueueAsync();

        // The receipt as hosts killed during each try leave it: every allowed try counted before it began, none reported back.
        var receipts = Receipts(blobs, options);
        var receiptBlob = await SeedStartedTriesAsync(receipts, function, container, "S/crash.csv", etag, options.MaxAttempts);

        await listener.ScanOnceAsync(CancellationToken.None);

        Assert.Empty(function.Runs);
        var message = Assert.Single(await PoisonMessagesForAsync(poison, container));
        Assert.Equal("S/crash.csv", message.GetProperty("BlobName").GetString());
        Assert.Equal(etag.ToString().Trim('"'), message.GetProperty("ETag").GetString()?.Trim('"')); // a listing's ETag has no quotes
        Assert.Equal(function.Definition.Name, message.GetProperty("FunctionId").GetString());
        var receipt = await receipts.ReadAsync(receiptBlob, CancellationToken.None);
        Assert.True(receipt.Completed);
        Assert.True(receipt.Poisoned);
        Assert.Equal(options.MaxAttempts, receipt.Attempts);

        // Settled: neither this host nor a restarted one runs it or poisons it again.
        await listener.ScanOnceAsync(CancellationToken.None);
        var (restarted, _) = NewHost(function, options);
        await restarted.ScanOnceAsync(CancellationToken.None);
        Assert.Empty(function.Runs);
        Assert.Single(await PoisonMessagesForAsync(poison, container));
        Assert.Equal("kills the host", (await containerClient.GetBlobClient("S/crash.csv").DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task A_version_with_one_try_left_after_crashes_runs_that_last_try()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        var function = new RecordingBlobFunction(container);
        var options = FastOptions(LocalStackFixture.UniqueName("host"));
        var (listener, blobs) = NewHost(function, options);
        var containerClient = blobs.GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync();
        var etag = (await containerClient.GetBlobClient("S/crash.csv").UploadAsync(BinaryData.FromString("x"))).Value.ETag;
        var receipts = Receipts(blobs, options);
        var receiptBlob = await SeedStartedTriesAsync(receipts, function, container, "S/crash.csv", etag, options.MaxAttempts - 1);

        await listener.ScanOnceAsync(CancellationToken.None);

        var run = Assert.Single(function.Runs);
        Assert.Equal(options.MaxAttempts, run.Attempt);
        var receipt = await receipts.ReadAsync(receiptBlob, CancellationToken.None);
        Assert.True(receipt.Completed);
        Assert.False(receipt.Poisoned);
    }

    [Fact]
    public async Task Losing_the_receipt_lease_cancels_the_running_function_and_the_version_is_not_completed()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        var function = new BlockingBlobFunction(container);
        var options = FastOptions(LocalStackFixture.UniqueName("host")); // 15 s lease (the least Azure allows): renewed every 5 s
        var (listener, blobs) = NewHost(function, options);
        var containerClient = blobs.GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync();
        await containerClient.UploadBlobAsync("S/long.csv", BinaryData.FromString("x"));

        // The backstop only matters if the lease loss goes unnoticed: it ends the function so the test can fail, not hang.
        using var backstop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var scan = listener.ScanOnceAsync(backstop.Token);
        var context = await function.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var receipts = Receipts(blobs, options);
        var receiptBlob = receipts.ReceiptFor(function.Definition.Name, container, context.Name, context.ETag);

        // Another party takes the lease away: the next renewal (at most 5 s away) is refused.
        var sinceBreak = Stopwatch.StartNew();
        await receiptBlob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        var cancelled = await Task.WhenAny(function.Cancelled.Task, Task.Delay(TimeSpan.FromSeconds(12)));
        var cancelledAfter = sinceBreak.Elapsed;
        await scan.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(cancelled == function.Cancelled.Task, "The function's token was not cancelled within 12 s of losing the lease.");
        Assert.False(backstop.IsCancellationRequested);
        Assert.True(cancelledAfter < TimeSpan.FromSeconds(12), $"Cancelled {cancelledAfter.TotalSeconds:F1} s after the lease was lost.");
        var receipt = await receipts.ReadAsync(receiptBlob, CancellationToken.None);
        Assert.False(receipt.Completed);
        Assert.False(receipt.Poisoned);
        Assert.Equal(1, receipt.Attempts); // the try stays counted
    }

    /// <summary>The receipt as hosts killed during each try leave it: <paramref name="tries"/> counted before they began, none reported back.</summary>
    private static async Task<BlobClient> SeedStartedTriesAsync(BlobReceiptStore receipts, ITriggerTarget function, string container, string name, global::Azure.ETag etag, int tries)
    {
        await receipts.EnsureContainerAsync(CancellationToken.None);
        var receiptBlob = receipts.ReceiptFor(function.Definition.Name, container, name, etag);
        await receipts.GetOrCreateAsync(receiptBlob, CancellationToken.None);
        await receiptBlob.SetMetadataAsync(new Dictionary<string, string> { ["Attempts"] = tries.ToString(CultureInfo.InvariantCulture) });
        return receiptBlob;
    }
}
