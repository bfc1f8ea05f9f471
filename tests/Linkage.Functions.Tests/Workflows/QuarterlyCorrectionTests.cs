using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.File1;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows.Quarterly;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Workflows;

/// <summary>
/// A corrected File 1 re-sent under an accepted version's name after a quarter delivered that version (decision 0801):
/// it becomes the version's next revision, so what the earlier quarter sent NHS England stays as it was sent, and the
/// next quarter sends the correction's changes (and only those) instead of dropping them as "version already sent".
/// </summary>
public sealed class QuarterlyCorrectionTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private const string Study = "EPIC";
    private const string Name = "EPIC_FILE1_v1_20250101.csv";

    /// <summary>Three participants in UK LLC; P1's permission for NHS England linkage varies.</summary>
    private static string File(string p1NhsE) => string.Join('\n',
        string.Join(',', File1Schema.FieldNames),
        $"EPI0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/01/2025,1,{p1NhsE},9,0,9,0,0,9,1,1,0,0,0,0,0,0,0",
        "EPI0002,C,4010232137,JONES,BEN,,2 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1971,1,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0",
        "EPI0003,C,9876543210,BROWN,CARL,,3 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1972,1,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0") + "\n";

    [Fact]
    public async Task A_corrected_resend_of_a_delivered_version_is_its_next_revision_and_the_next_quarter_sends_only_the_correction()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: new Dictionary<string, string?>
        {
            ["Workflows:Quarterly:ActiveStudies"] = Study,
            ["Workflows:Quarterly:DeadlineDays"] = "0", // no wait: the study's file is in before each cycle starts
            ["Workflows:Quarterly:RecheckEvery"] = "00:00:05",
        });
        var (http, op) = QuarterlyOptOutTests.Clients(app);
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();

        // Last quarter: v1, everyone in, delivered to NHS England.
        await blobs.PutTextAsync(TtpStorage.File1Inbox, $"{Study}/{Name}", File(p1NhsE: "1"));
        var first = await Wait.ForAsync(async () => await versions.GetAsync(Study, File1VersionStore.IdFor(Study, 1), CancellationToken.None) is { State: File1VersionState.Accepted } r ? r : null, logs: app.Logs);
        Assert.Equal(0, first.Revision);
        var (lastYear, lastQuarter) = QuarterlyOptOutTests.LastQuarter();
        string lastLabel = $"{lastYear}-Q{lastQuarter}";
        var lastReport = (await QuarterlyOptOutTests.CompletedAsync(http, await QuarterlyOptOutTests.StartAsync(http, op, lastYear, lastQuarter), op, app)).GetProperty("output");
        var lastDelta = await QuarterlyOptOutTests.AssertDeliveryAsync(blobs, lastReport, lastLabel, [Study]);
        Assert.Equal(first.Counts["deltaRows"], lastDelta.Count);

        // The provider re-sends v1 under the same name, corrected: P1 had in fact refused NHS England linkage.
        await blobs.PutTextAsync(TtpStorage.File1Inbox, $"{Study}/{Name}", File(p1NhsE: "0"));
        var corrected = await Wait.ForAsync(async () => await versions.GetAsync(Study, File1VersionStore.IdFor(Study, 1), CancellationToken.None) is { State: File1VersionState.Accepted, Revision: 1 } r ? r : null, logs: app.Logs);
        Assert.Equal([0, 1], corrected.AllRevisions().Select(r => r.Revision));
        Assert.Null(corrected.Revisions[1].Cycle);
        Assert.Equal(first.Files.Keys.Order(), corrected.Revisions[0].Files.Keys.Order());
        Assert.All(first.Files, f => Assert.Equal(f.Value, corrected.Revisions[0].Files[f.Key]));
        Assert.All(corrected.Files, f => Assert.DoesNotContain(f.Value.Name, first.Files.Values.Select(v => v.Name))); // every output written anew, none overwritten

        // What last quarter sent is still what its manifest lists (length and SHA-256 of every file, NHS Output included).
        await QuarterlyOptOutTests.AssertDeliveryAsync(blobs, lastReport, lastLabel, [Study]);

        // The processor takes the correction: revision 1's manifest, P1 without NHS England linkage.
        var manifest = (await app.Services.GetRequiredService<PermissionSnapshotSource>().GetManifestAsync(Study, CancellationToken.None))!;
        Assert.Equal((1, 1), (manifest.Version, manifest.Revision));
        Assert.EndsWith("_r1.csv", manifest.IdMapping.Name, StringComparison.Ordinal);

        // This quarter sends the correction: the delta is P1's opt-out of NHS England linkage, nothing of what last quarter sent again.
        var (year, quarter) = QuarterlyOptOutTests.ThisQuarter();
        var report = (await QuarterlyOptOutTests.CompletedAsync(http, await QuarterlyOptOutTests.StartAsync(http, op, year, quarter), op, app)).GetProperty("output");
        var delta = await QuarterlyOptOutTests.AssertDeliveryAsync(blobs, report, $"{year}-Q{quarter}", [Study]);
        Assert.NotEmpty(delta);
        Assert.Equal(corrected.Revisions[1].Counts["deltaRows"], delta.Count);
        Assert.Single(delta.Select(r => r[0]).Distinct()); // one person
        Assert.DoesNotContain(delta, r => lastDelta.Any(l => l.SequenceEqual(r)));
        Assert.Contains(delta, r => r[1] == "permission-off");

        // The NHS Output sent this quarter is revision 1's, without P1; last quarter's still names P1.
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        var sentNow = (await outbox.GetBlobClient(QuarterActivities.ManifestName($"{year}-Q{quarter}")).DownloadContentAsync()).Value.Content.ToObjectFromJson<JsonElement>()
            .GetProperty("files").EnumerateArray().Single(f => f.GetProperty("role").GetString() == "nhsOutput").GetProperty("name").GetString()!;
        Assert.Equal(File1OutputWriter.BlobName(corrected.Files[File1OutputWriter.Keys.NhsOutput].Name), sentNow);
        Assert.DoesNotContain("9434765919", await TextAsync(outbox, sentNow), StringComparison.Ordinal);
        Assert.Contains("9434765919", await TextAsync(outbox, File1OutputWriter.BlobName(first.Files[File1OutputWriter.Keys.NhsOutput].Name)), StringComparison.Ordinal);
    }

    private static async Task<string> TextAsync(BlobContainerClient container, string name) =>
        (await container.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString();
}
