using Linkage.Functions.Deliveries;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Synth;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.LocalHost;

/// <summary>Two instances of one app on the same storage and task hub: every delivery is processed once, by one of them.</summary>
public sealed class TwoHostTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-two-hosts-").FullName;

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    [Fact]
    public async Task Two_hosts_share_the_work_and_do_none_of_it_twice()
    {
        var options = new SynthOptions { Seed = 5, Participants = 300, File2Rows = 10, Quarters = 1, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        string hostId = LocalStackFixture.UniqueName("pair");
        string hub = "p" + Guid.NewGuid().ToString("N")[..20];
        Dictionary<string, string?> Settings(string worker) => new()
        {
            ["Runtime:HostId"] = hostId,
            ["DurableTaskHubName"] = hub,
            ["Runtime:WorkerId"] = worker,
            ["Runtime:Zones"] = "ttp",
        };
        await using var a = new FunctionAppFactory(stack.Stack, "Local", settings: Settings("worker-a"));
        await using var b = new FunctionAppFactory(stack.Stack, "Local", settings: Settings("worker-b"));
        _ = a.Services;
        _ = b.Services;

        var blobs = stack.CreateBlobServiceClient();
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(_synthDir, "optout", "national_opt_out.csv"));
        var deliveries = new List<DeliveryRef>();
        foreach (var study in options.Studies)
        {
            string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", study), $"{study}_FILE1_v1_*.csv").Single();
            string name = $"{study}/{Path.GetFileName(file)}";
            await blobs.UploadFileAsync(TtpStorage.File1Inbox, name, file);
            var etag = (await blobs.GetBlobContainerClient(TtpStorage.File1Inbox).GetBlobClient(name).GetPropertiesAsync()).Value.ETag;
            deliveries.Add(new DeliveryRef(TtpStorage.File1Inbox, name, etag.ToString()));
        }

        var store = a.Services.GetRequiredService<DeliveryStore>();
        foreach (var d in deliveries)
        {
            var done = await Wait.ForAsync(async () => await store.GetAsync(d.Id, CancellationToken.None) is { State: DeliveryState.Completed } r ? r : null, logs: a.Logs);
            Assert.Equal("Accepted", done.Outcome);
            Assert.Equal(1, done.Attempts);
        }

        // Each blob version's trigger ran once across both hosts, and each intake once.
        var triggered = a.Logs.Lines.Concat(b.Logs.Lines).Where(l => !l.StartsWith(" ", StringComparison.Ordinal) && l.Contains("Running File1Intake for blob version", StringComparison.Ordinal)).ToList();
        Assert.True(deliveries.Count == triggered.Count, string.Join("\n", triggered));
        var accepted = a.Logs.Lines.Concat(b.Logs.Lines).Where(l => !l.StartsWith(" ", StringComparison.Ordinal) && l.Contains("Accepted File 1", StringComparison.Ordinal)).ToList();
        Assert.Equal(deliveries.Count, accepted.Count);
    }
}
