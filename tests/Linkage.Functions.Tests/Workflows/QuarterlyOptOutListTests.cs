using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows.Quarterly;
using Linkage.Synth;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Workflows;

/// <summary>
/// The quarterly cycle past its deadline: a study that sent nothing is named and keeps its permissions, and without a
/// usable national opt-out list the s251 study's files are held from NHS England (fail closed) and named with why.
/// </summary>
public sealed class QuarterlyOptOutListTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-quarter-list-").FullName;

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    [Fact]
    public async Task Past_its_deadline_a_missing_study_is_named_and_without_a_usable_list_the_s251_study_is_held()
    {
        var options = new SynthOptions { Seed = 5, Participants = 120, File2Rows = 10, Quarters = 1, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: new Dictionary<string, string?>
        {
            ["Workflows:Quarterly:ActiveStudies"] = string.Join(',', options.Studies),
            ["Workflows:Quarterly:DeadlineDays"] = "30", // last quarter's File 1s were due a month after it opened: the cycle does not wait
            ["Workflows:Quarterly:RemindEvery"] = "00:00:02",
            ["Workflows:Quarterly:RecheckEvery"] = "00:00:05",
            ["Deliveries:MaxAttempts"] = "2",
        });
        var (http, op) = QuarterlyOptOutTests.Clients(app);
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        string s251 = options.S251StudyCode;
        string other = options.Studies.First(s => s != s251);
        string missing = options.Studies.First(s => s != s251 && s != other);

        // The s251 study's File 1 needs the list at intake; then the list is withdrawn before the cycle runs.
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(_synthDir, "optout", "national_opt_out.csv"));
        foreach (var study in new[] { s251, other })
        {
            string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", study), $"{study}_FILE1_v1_*.csv").Single();
            await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{study}/{Path.GetFileName(file)}", file);
            var record = await Wait.ForAsync(async () => await versions.GetAsync(study, File1VersionStore.IdFor(study, 1), CancellationToken.None) is { State: not File1VersionState.Committed } r ? r : null, logs: app.Logs);
            Assert.Equal(File1VersionState.Accepted, record.State);
            Assert.Equal(study == s251, record.Counts["s251Participants"] > 0);
        }

        await blobs.GetBlobContainerClient(TtpStorage.Config).DeleteBlobAsync(TtpStorage.NationalOptOutBlob);

        // The s251 study's next File 1 cannot be processed without the list: retried, then held for an operator.
        string v2 = Path.GetFileName(Directory.GetFiles(Path.Combine(_synthDir, "file1", s251), $"{s251}_FILE1_v1_*.csv").Single()).Replace("_v1_", "_v2_", StringComparison.Ordinal);
        await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{s251}/{v2}", Directory.GetFiles(Path.Combine(_synthDir, "file1", s251), $"{s251}_FILE1_v1_*.csv").Single());
        var deliveries = app.Services.GetRequiredService<Linkage.Functions.Deliveries.DeliveryStore>();
        var held = await Wait.ForAsync(async () => (await deliveries.ListAsync(Linkage.Functions.Deliveries.DeliveryState.Held, 10, CancellationToken.None)).FirstOrDefault(d => d.BlobName == $"{s251}/{v2}"), seconds: 90, logs: app.Logs);

        var (year, quarter) = QuarterlyOptOutTests.LastQuarter();
        string q = await QuarterlyOptOutTests.StartAsync(http, op, year, quarter);
        var report = (await QuarterlyOptOutTests.CompletedAsync(http, q, op, app)).GetProperty("output");
        var studies = QuarterlyOptOutTests.Studies(report);
        Assert.Equal("NotDelivered", studies[missing].GetProperty("State").GetString()); // named; keeps its previous permissions
        Assert.Equal("Accepted", studies[other].GetProperty("State").GetString());
        Assert.Equal("Accepted", studies[s251].GetProperty("State").GetString());
        Assert.False(report.GetProperty("OptOutList").GetProperty("Usable").GetBoolean());
        Assert.Equal([s251], report.GetProperty("HeldStudies").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("there is no national opt-out list", report.GetProperty("HeldReason").GetString());
        var heldDelivery = Assert.Single(report.GetProperty("HeldDeliveries").EnumerateArray());
        Assert.Equal(held.Id, heldDelivery.GetProperty("DeliveryId").GetString());
        Assert.Equal(s251, heldDelivery.GetProperty("Study").GetString());
        Assert.DoesNotContain(v2, report.GetRawText(), StringComparison.Ordinal); // ids and study codes, not file names

        // NHS England receives the other study's files, nothing of the held one.
        await QuarterlyOptOutTests.AssertDeliveryAsync(blobs, report, $"{year}-Q{quarter}", [other]);
        var delivery = report.GetProperty("Delivery");
        Assert.Equal([s251], delivery.GetProperty("Held").EnumerateArray().Select(e => e.GetString())); // for operators
        string nhseManifest = (await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).GetBlobClient(QuarterActivities.ManifestName($"{year}-Q{quarter}")).DownloadContentAsync()).Value.Content.ToString();
        Assert.DoesNotContain(s251, nhseManifest, StringComparison.Ordinal); // NHS England is not told who is held
        Assert.DoesNotContain(delivery.GetProperty("Files").EnumerateArray(), f => f.GetProperty("Study").GetString() == s251);
    }
}
