using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.Functions.Api;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows.Quarterly;
using Linkage.Synth;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Workflows;

/// <summary>
/// The quarterly opt-out cycle through the running app: two quarters of three synthetic studies — a late provider
/// reminded, a missing study closed by an operator, the NHS England delivery written once with checksums and limited
/// to what NHS England acts on.
/// </summary>
public sealed class QuarterlyOptOutTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-quarter-").FullName;

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    [Fact]
    public async Task Two_quarters_wait_remind_skip_and_send_NHS_England_one_delivery_each_of_only_what_it_acts_on()
    {
        var options = new SynthOptions { Seed = 11, Participants = 150, File2Rows = 10, Quarters = 2, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        await using var app = QuarterApp(stack, options);
        var (http, op) = Clients(app);
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(_synthDir, "optout", "national_opt_out.csv"));
        var (alspac, ukhls, bcs70) = (options.Studies[0], options.Studies[1], options.Studies[2]);

        // The first cycle (last calendar quarter): nothing has arrived; every study is reminded.
        var ((y1, n1), (y2, n2)) = (LastQuarter(), ThisQuarter());
        string l1 = $"{y1}-Q{n1}", l2 = $"{y2}-Q{n2}";
        string q1 = await StartAsync(http, op, y1, n1);
        var notes = blobs.GetBlobContainerClient(TtpStorage.ProviderReports);
        await Wait.ForAsync(async () => (await notes.ListNamesAsync()).Count(n => n.Contains($"/reminders/quarter-{l1}-", StringComparison.Ordinal)) >= 3 ? "" : null, seconds: 60, logs: app.Logs);
        Assert.Contains($"no File 1 has been accepted for {l1}", (await notes.GetBlobClient(QuarterActivities.ReminderName(ukhls, l1, 1)).DownloadContentAsync()).Value.Content.ToString());

        // Two studies deliver; the intake wakes the cycle (or its re-check finds them).
        await DeliverAsync(blobs, versions, alspac, 1, app);
        await DeliverAsync(blobs, versions, bcs70, 1, app);
        await Wait.ForAsync(async () => Progress(await GetJsonAsync(http, q1, op)) == "studies 2/3 delivered" ? "" : null, seconds: 60, logs: app.Logs);

        // UKHLS sends nothing this quarter: an operator closes its wait. A reason shaped like an identifier is refused.
        var shaped = await SendAsync(http, HttpMethod.Post, $"{q1}/skip-study", op, new { study = ukhls, reason = "participant 943 476 5919 asked" });
        Assert.Equal(HttpStatusCode.BadRequest, shaped.StatusCode);
        var skip = await SendAsync(http, HttpMethod.Post, $"{q1}/skip-study", op, new { study = ukhls, reason = "The study confirmed no update this quarter" });
        Assert.Equal(HttpStatusCode.Accepted, skip.StatusCode);
        var report1 = (await CompletedAsync(http, q1, op, app)).GetProperty("output");
        var studies1 = Studies(report1);
        Assert.Equal("Accepted", studies1[alspac].GetProperty("State").GetString());
        Assert.Equal("Accepted", studies1[bcs70].GetProperty("State").GetString());
        Assert.Equal("Skipped", studies1[ukhls].GetProperty("State").GetString());
        Assert.Equal("Olive Operator", studies1[ukhls].GetProperty("SkippedBy").GetString());
        Assert.Equal("The study confirmed no update this quarter", studies1[ukhls].GetProperty("SkipReason").GetString());
        Assert.True(report1.GetProperty("OptOutList").GetProperty("Usable").GetBoolean());
        Assert.Empty(report1.GetProperty("HeldStudies").EnumerateArray());
        await AssertDeliveryAsync(blobs, report1, l1, [alspac, bcs70]);
        Assert.Equal(0, report1.GetProperty("Delivery").GetProperty("DeltaRows").GetInt64()); // first File 1s: their NHS Outputs are the full lists

        // The second cycle (this quarter): the first's files do not count again; the second File 1s do.
        string q2 = await StartAsync(http, op, y2, n2);
        await Wait.ForAsync(async () => Progress(await GetJsonAsync(http, q2, op)) == "studies 0/3 delivered" ? "" : null, seconds: 60, logs: app.Logs);
        await DeliverAsync(blobs, versions, alspac, 2, app);
        await DeliverAsync(blobs, versions, bcs70, 2, app);
        await DeliverAsync(blobs, versions, ukhls, 1, app);
        var report2 = (await CompletedAsync(http, q2, op, app)).GetProperty("output");
        var studies2 = Studies(report2);
        Assert.Equal(2, studies2[alspac].GetProperty("Version").GetInt32());
        Assert.Equal(1, studies2[ukhls].GetProperty("Version").GetInt32());
        Assert.True(studies2[alspac].GetProperty("Changes").GetProperty("withdrawals").GetInt64() > 0);
        var delta = await AssertDeliveryAsync(blobs, report2, l2, [alspac, bcs70, ukhls]);

        // The quarter's delta is the studies' deltas, and only what NHS England acts on.
        Assert.NotEmpty(delta);
        Assert.Equal(report2.GetProperty("Delivery").GetProperty("DeltaRows").GetInt64(), delta.Count);
        Assert.All(delta, f => Assert.Contains(f[1], new[] { "withdrawn", "rejoined", "permission-on", "permission-off" }));
        Assert.All(delta, f => Assert.Contains(f[2], new[] { "ukllc_status", "nhs_e_linkage", "national_opt_out_applies" }));
        long perStudy = 0;
        foreach (var study in new[] { alspac, bcs70, ukhls })
        {
            var record = (await versions.GetAsync(study, File1VersionStore.IdFor(study, studies2[study].GetProperty("Version").GetInt32()), CancellationToken.None))!;
            perStudy += record.Counts["deltaRows"];
        }

        Assert.Equal(perStudy, delta.Count);

        // A second start of a quarter is a no-op; its delivery is not written again.
        var manifest = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).GetBlobClient(QuarterActivities.ManifestName(l2));
        var etag = (await manifest.GetPropertiesAsync()).Value.ETag;
        var again = await SendAsync(http, HttpMethod.Post, "/api/workflows/quarterly-opt-out", op, new { year = y2, quarter = n2 });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(etag, (await manifest.GetPropertiesAsync()).Value.ETag);
        // An older quarter cannot be started now (it would deliver files a newer one sent).
        var older = await SendAsync(http, HttpMethod.Post, "/api/workflows/quarterly-opt-out", op, new { year = y1 - 1, quarter = n1 });
        Assert.Equal(HttpStatusCode.BadRequest, older.StatusCode);

        // The first cycle's history is purged; its report is still answered.
        await app.Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>().PurgeInstanceAsync(q1.Split('/')[^1]);
        var purged = await GetJsonAsync(http, q1, op);
        Assert.True(purged.GetProperty("historyPurged").GetBoolean());
        Assert.Equal(l1, purged.GetProperty("output").GetProperty("Quarter").GetString());

        var audit = await app.Services.GetRequiredService<AuditLog>().ForTargetAsync("workflows", 1000, CancellationToken.None);
        Assert.Contains(audit, e => e is { Action: "workflows.skip-study", Outcome: "skipped", Name: "Olive Operator" });
        Assert.Contains(audit, e => e is { Action: "workflows.start", Outcome: "exists" });

        // No identifier or STUDY_ID in any spelling outside the TTP zone: the task hub's inputs, outputs, custom status
        // and history (tables and queues), the stored reports, blobs, audit and logs included.
        var scan = IdentifierScan.FromFile1s(Directory.GetFiles(Path.Combine(_synthDir, SynthGenerator.File1Folder), "*.csv", SearchOption.AllDirectories));
        var leaks = await LeakScan.ScanAsync(scan, stack.Stack, app.Logs);
        Assert.True(leaks.Count("table entities") > 0, leaks.Summary);
        leaks.AssertClean();
    }

    internal static FunctionAppFactory QuarterApp(IsolatedStackFixture stack, SynthOptions options) => new(stack.Stack, "Local", settings: new Dictionary<string, string?>
    {
        ["Workflows:Quarterly:ActiveStudies"] = string.Join(',', options.Studies),
        ["Workflows:Quarterly:DeadlineDays"] = "200", // last quarter's and this quarter's deadlines are both ahead: only the studies end their waits
        ["Workflows:Quarterly:RemindEvery"] = "00:00:02",
        ["Workflows:Quarterly:RecheckEvery"] = "00:00:05",
    });

    internal static (int Year, int Quarter) ThisQuarter() => (DateTime.UtcNow.Year, (DateTime.UtcNow.Month - 1) / 3 + 1);

    internal static (int Year, int Quarter) LastQuarter() => ThisQuarter() is var (y, q) && q == 1 ? (y - 1, 4) : (ThisQuarter().Year, ThisQuarter().Quarter - 1);

    internal static (HttpClient Http, string Operator) Clients(FunctionAppFactory app)
    {
        _ = app.Services;
        return (app.CreateClient(), app.Token("Olive Operator", Roles.Operator));
    }

    internal static async Task<string> StartAsync(HttpClient http, string op, int year, int quarter)
    {
        var started = await SendAsync(http, HttpMethod.Post, "/api/workflows/quarterly-opt-out", op, new { year, quarter });
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        string location = started.Headers.Location!.ToString();
        Assert.Equal($"/api/workflows/quarter-{year}-Q{quarter}", location);
        return location;
    }

    internal async Task DeliverAsync(BlobServiceClient blobs, File1VersionStore versions, string study, int version, FunctionAppFactory app)
    {
        string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", study), $"{study}_FILE1_v{version}_*.csv").Single();
        await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{study}/{Path.GetFileName(file)}", file);
        var record = await Wait.ForAsync(async () => await versions.GetAsync(study, File1VersionStore.IdFor(study, version), CancellationToken.None) is { State: not File1VersionState.Committed } r ? r : null, logs: app.Logs);
        Assert.Equal(File1VersionState.Accepted, record.State);
    }

    internal static Dictionary<string, JsonElement> Studies(JsonElement report) =>
        report.GetProperty("Studies").EnumerateArray().ToDictionary(s => s.GetProperty("Study").GetString()!);

    /// <summary>The manifest lists the delta and each study's NHS Output with the length and SHA-256 of what is there; returns the delta's rows.</summary>
    internal static async Task<List<string[]>> AssertDeliveryAsync(BlobServiceClient blobs, JsonElement report, string label, string[] studies)
    {
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        var manifest = (await outbox.GetBlobClient(QuarterActivities.ManifestName(label)).DownloadContentAsync()).Value.Content.ToObjectFromJson<JsonElement>();
        var files = manifest.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(studies.Order(StringComparer.Ordinal), files.Where(f => f.GetProperty("role").GetString() == "nhsOutput").Select(f => f.GetProperty("study").GetString()!).Order(StringComparer.Ordinal));
        List<string[]> delta = [];
        foreach (var f in files)
        {
            var content = (await outbox.GetBlobClient(f.GetProperty("name").GetString()).DownloadContentAsync()).Value.Content.ToArray();
            Assert.Equal(f.GetProperty("length").GetInt64(), content.Length);
            Assert.Equal(f.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(content)));
            if (f.GetProperty("role").GetString() == "delta")
            {
                delta = System.Text.Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToList();
            }
        }

        Assert.Equal(report.GetProperty("Delivery").GetProperty("Manifest").GetString(), QuarterActivities.ManifestName(label));
        return delta;
    }

    internal static string? Progress(JsonElement status) =>
        status.TryGetProperty("customStatus", out var c) && c.ValueKind == JsonValueKind.Object && c.TryGetProperty("Progress", out var p) ? p.GetString() : null;

    internal static async Task<JsonElement> CompletedAsync(HttpClient http, string location, string op, FunctionAppFactory app)
    {
        string last = "";
        try
        {
            string done = await Wait.ForAsync(async () =>
            {
                var status = await GetJsonAsync(http, location, op);
                last = status.GetRawText();
                string? state = status.GetProperty("runtimeStatus").GetString();
                Assert.True(state is not ("Failed" or "Terminated"), last);
                return state == "Completed" ? last : null;
            }, seconds: 180, logs: app.Logs);
            return JsonDocument.Parse(done).RootElement.Clone();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{location} did not complete; last status: {last}", e);
        }
    }
}
