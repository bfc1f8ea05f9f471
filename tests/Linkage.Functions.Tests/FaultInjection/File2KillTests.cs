using System.Collections.Concurrent;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.FaultInjection;

/// <summary>
/// The real local host, as a process of its own, killed by the File 2 intake itself at a step (<c>Faults:Action=Kill</c>:
/// SIGKILL, nothing after it runs) — once, and again during the retry. The delivery's workflow resumes on the next host
/// and ends in exactly the state of an uninterrupted run; until the commit, readers saw no version.
/// </summary>
public sealed class File2KillTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly File2Scenario _scenario = new(stack.Stack);
    private readonly ConcurrentQueue<string> _output = new();

    public void Dispose() => _scenario.Dispose();

    // After the commit a retry only publishes, so the second kill of that case is at the publish step.
    [Theory]
    [InlineData(File2Steps.Staged, File2Steps.Staged)]
    [InlineData(File2Steps.Committed, File2Steps.CurrentVersionSet)]
    public async Task Killed_twice_the_delivery_ends_as_an_uninterrupted_run(string first, string second)
    {
        // The uninterrupted run, in-process on the same stack and keys.
        await StartAsync();
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2());
        SortedDictionary<string, string> expected;
        await using (var app = new FunctionAppFactory(stack.Stack, "ServicesOnly"))
        {
            Assert.Equal("Curated", (await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None)).Outcome);
            expected = await _scenario.StateAsync(etag);
        }

        await StartAsync();
        var settings = Settings();
        (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2());
        await using var reader = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var catalogue = reader.Services.GetRequiredService<CurationCatalogue>();
        foreach (var step in new[] { first, second })
        {
            var killing = new Dictionary<string, string>(settings) { ["Faults:At"] = step, ["Faults:Action"] = "Kill" };
            using var host = LocalHostProcess.Start(stack.Stack, killing, _output);
            await Wait.ForAsync(() => Task.FromResult(host.HasExited ? "killed" : null), seconds: 180);

            // SIGKILL may cut the log line of the fault, so the state says where it died: after staging (blobs present),
            // with nothing visible before the commit, and the delivery not yet archived.
            Assert.NotEmpty(await _scenario.CuratedBlobsAsync());
            Assert.True((await blob.ExistsAsync()).Value, "killed before the archive step");
            var visible = step switch { File2Steps.Committed => (1, (int?)null), File2Steps.CurrentVersionSet => (1, 1), _ => (0, null) };
            Assert.Equal(visible, await File2Scenario.VisibleAsync(catalogue));
        }

        using (var last = LocalHostProcess.Start(stack.Stack, settings, _output))
        {
            await Wait.ForAsync(async () => await File2Scenario.VisibleAsync(catalogue) is (1, 1)
                && (await _scenario.Blobs.GetBlobContainerClient(ProcessorStorage.File2Archive).GetBlobClient(File2Scenario.BlobName).ExistsAsync()).Value ? "published" : null, seconds: 240);
            var store = reader.Services.GetRequiredService<DeliveryStore>();
            var delivery = new DeliveryRef(ProcessorStorage.File2Inbox, File2Scenario.BlobName, etag.ToString());
            var done = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Completed } d ? d : null, seconds: 120);
            Assert.Equal(3, done.Attempts); // two killed, one finished
        }

        AssertSameState(expected, await _scenario.StateAsync(etag));
    }

    private async Task StartAsync()
    {
        await _scenario.ResetAsync();
        var (permitted, withdrawn, _) = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(permitted, withdrawn);
    }

    private static Dictionary<string, string> Settings() => new()
    {
        ["Runtime:Zones"] = "processor",
        ["Runtime:HostId"] = LocalStackFixture.UniqueName("kill"),
        ["DurableTaskHubName"] = "k" + Guid.NewGuid().ToString("N")[..20],
        ["Runtime:DurableVisibilityTimeout"] = "00:00:05",
        ["Runtime:BlobPollInterval"] = "00:00:00.500",
        ["Deliveries:MaxAttempts"] = "5",
        ["Deliveries:FirstRetryDelay"] = "00:00:01",
        ["Deliveries:MaxRetryDelay"] = "00:00:02",
    };

    private static void AssertSameState(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, value) in expected)
        {
            Assert.True(value == actual[key], $"{key} differs:\nexpected {value}\nactual   {actual[key]}");
        }
    }
}
