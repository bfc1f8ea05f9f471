using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Azure.Identity;
using Linkage.Functions.Api;
using Linkage.Functions.Processor;
using Linkage.Functions.Provisioning;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Tests.Workflows;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows;
using Linkage.Functions.Workflows.Quarterly;
using Linkage.Functions.Workflows.Refresh;
using Linkage.Synth;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.FaultInjection;

/// <summary>
/// The annual refresh and the quarterly cycle on the real local host, as a process of its own, killed (SIGKILL) by the
/// workflows themselves at a named step (<see cref="WorkflowSteps"/>) — at least twice each, at different steps — then finished by a
/// host without faults: both complete, and no effect is doubled or lost (one file per project and version, written once
/// and recorded once; one NHS England delivery per quarter; one report).
/// </summary>
/// <remarks>The setup (deliveries, curation, projects) runs in-process; the workflows run only in the killed hosts.</remarks>
public sealed class WorkflowKillTests(IsolatedStackFixture stack, ITestOutputHelper log) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private const string Lsoa = File2Scenario.Dataset;
    private readonly File2Scenario _scenario = new(stack.Stack);
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-kill-quarter-").FullName;

    public void Dispose()
    {
        _scenario.Dispose();
        Directory.Delete(_synthDir, recursive: true);
    }

    [Fact]
    public async Task An_annual_refresh_killed_twice_reprovisions_each_project_once_and_stores_one_report()
    {
        var clock = Stopwatch.StartNew();
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        string a = "LLC_" + Random.Shared.Next(1000, 4999);
        string b = "LLC_" + Random.Shared.Next(5000, 9999);
        string[] projects = [a, b];

        // Setup in-process: version 1 curated, both projects provisioned with it, version 2 curated and released.
        await using (var app = new FunctionAppFactory(stack.Stack, "Local"))
        {
            _ = app.Services;
            var http = app.CreateClient();
            string admin = app.Token("Pat ProjectAdmin", Roles.ProjectAdmin);
            string setupOp = app.Token("Olive Operator", Roles.Operator);
            var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
            await _scenario.DeliverAsync(File2Scenario.File2(rows: 2000, people: people));
            await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Lsoa, 1, CancellationToken.None), seconds: 120, logs: app.Logs);
            foreach (var p in projects)
            {
                var created = await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id = p, title = "Hospital use by area", studies = new[] { "ALSPAC" }, datasets = new[] { Lsoa }, endDate = "2030-01-01" });
                Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
                var provision = await SendAsync(http, HttpMethod.Post, $"/api/projects/{p}/provision", admin);
                Assert.Equal(HttpStatusCode.Accepted, provision.StatusCode);
                await CompletedAsync(http, provision.Headers.Location!.ToString(), setupOp, null);
            }

            await _scenario.DeliverAsync(File2Scenario.File2(rows: 2400, people: people), blobName: $"{Lsoa}/lsoa_2027.csv");
            await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Lsoa, 2, CancellationToken.None), seconds: 120, logs: app.Logs);
        }

        log.WriteLine($"setup {clock.Elapsed.TotalSeconds:F0} s");
        var settings = Settings("processor,provisioning", new()
        {
            ["Workflows:Refresh:RecheckEvery"] = "00:00:05",
            ["Workflows:Refresh:RemindEvery"] = "30.00:00:00",
            ["Workflows:Refresh:ReviewRecheckEvery"] = "00:00:05",
            ["Workflows:Refresh:ProjectRetryDelay"] = "00:00:01",
        });
        await using var reader = Reader(settings);
        var store = reader.Services.GetRequiredService<ProjectStore>();
        var reports = reader.Services.GetRequiredService<WorkflowReportStore>();
        int year = DateTime.UtcNow.Year + 1;
        string instance = AnnualRefreshOrchestration.InstanceIdFor(Lsoa, year);
        string op = Token(Roles.Operator);

        // Kill 1: a project's file of version 2 is committed, its record is not.
        using (var host = Start(settings, WorkflowSteps.ProjectFileCommitted))
        {
            var started = await SendWhenUpAsync(host, HttpMethod.Post, "/api/workflows/annual-refresh", op, new { dataset = Lsoa, year, afterVersion = 1 });
            Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
            await KilledAsync(host);
        }

        var firstCommit = new Dictionary<string, ETag>();
        foreach (var p in projects)
        {
            if (await FileOfVersionAsync(p, 2) is { } blob)
            {
                firstCommit[p] = blob.Properties.ETag!.Value;
            }
        }

        var unrecorded = new List<string>();
        foreach (var p in firstCommit.Keys)
        {
            if (await store.GetFileAsync(p, Lsoa, 2, CancellationToken.None) is null)
            {
                unrecorded.Add(p);
            }
        }

        Assert.NotEmpty(unrecorded); // killed between a file's commit and its record's
        Assert.Null(await reports.GetAsync(AnnualRefreshOrchestration.Name, instance, CancellationToken.None));
        log.WriteLine($"kill 1 (file of {string.Join(", ", firstCommit.Keys)} committed) {clock.Elapsed.TotalSeconds:F0} s");

        // Kill 2: the report is stored, the refresh has not recorded it.
        using (var host = Start(settings, WorkflowSteps.RefreshReportSaved))
        {
            await KilledAsync(host);
        }

        Assert.NotNull(await reports.GetAsync(AnnualRefreshOrchestration.Name, instance, CancellationToken.None));
        foreach (var p in projects)
        {
            var blob = await FileOfVersionAsync(p, 2);
            Assert.NotNull(blob);
            firstCommit.TryAdd(p, blob.Properties.ETag!.Value);
        }

        log.WriteLine($"kill 2 (report stored) {clock.Elapsed.TotalSeconds:F0} s");

        // A host without faults finishes it.
        JsonElement status;
        using (var host = Start(settings, null))
        {
            status = await CompletedAsync(await UpAsync(host), $"/api/workflows/{instance}", op, host);
        }

        log.WriteLine($"completed {clock.Elapsed.TotalSeconds:F0} s");
        var report = status.GetProperty("output");
        Assert.Equal("Completed", report.GetProperty("Outcome").GetString());
        Assert.Equal(2, report.GetProperty("Version").GetInt32());
        var results = report.GetProperty("Projects").EnumerateArray().ToList();
        Assert.Equal(projects.Order(StringComparer.Ordinal), results.Select(r => r.GetProperty("ProjectId").GetString()!));
        Assert.All(results, r => Assert.Contains(r.GetProperty("Outcome").GetString(), new[] { "Refreshed", "Unchanged" }));
        Assert.All(results, r => Assert.Equal(2, r.GetProperty("Version").GetInt32()));
        Assert.All(results, r => Assert.Equal(1, r.GetProperty("Attempts").GetInt32()));

        var durable = reader.Services.GetRequiredService<DurableTaskClient>();
        var cohorts = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectProvisioner.CohortContainer);
        foreach (var p in projects)
        {
            // One re-provisioning: one sub-orchestration, its first attempt.
            var subs = new List<string>();
            await foreach (var sub in durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"{instance}-{p}-" }))
            {
                subs.Add(sub.InstanceId);
            }

            Assert.Equal([AnnualRefreshOrchestration.ProjectInstanceId(instance, p, 1)], subs);

            // One file of version 2, written once (the blob of its first commit), recorded once, with its content's hash.
            var blob = await FileOfVersionAsync(p, 2);
            Assert.NotNull(blob);
            Assert.Equal(firstCommit[p], blob.Properties.ETag!.Value);
            var files = (await store.FilesAsync(p, CancellationToken.None)).Where(f => f.Version == 2).ToList();
            var file = Assert.Single(files);
            Assert.Equal(blob.Name, file.Name);
            var content = (await stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(p)).GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)), file.Sha256);
            Assert.Equal(file.Rows, System.Text.Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);
            Assert.DoesNotContain(await cohorts.ListNamesAsync(), n => n.StartsWith($"{p}/pending-files/", StringComparison.Ordinal));
        }

        // One report, the one the workflow returned.
        var stored = (await reports.ListAsync(AnnualRefreshOrchestration.Name, CancellationToken.None)).Where(r => r.Id == instance).ToList();
        Assert.Single(stored);
        Assert.Equal(2, stored[0].Report.GetProperty("Version").GetInt32());
        Assert.Equal(report.GetProperty("CompletedAt").GetDateTime(), stored[0].Report.GetProperty("CompletedAt").GetDateTime());
        log.WriteLine($"done {clock.Elapsed.TotalSeconds:F0} s");
    }

    [Fact]
    public async Task A_quarterly_cycle_killed_three_times_revises_once_sends_NHS_England_exactly_one_delivery_and_stores_one_report()
    {
        var clock = Stopwatch.StartNew();
        var options = new SynthOptions { Seed = 11, Participants = 150, File2Rows = 10, Quarters = 2, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        var blobs = stack.CreateBlobServiceClient();
        var (alspac, bcs70) = (options.Studies[0], options.Studies[2]);

        // Setup in-process: ALSPAC's first and second File 1s and BCS70's first, accepted this quarter.
        await using (var app = QuarterlyOptOutTests.QuarterApp(stack, options))
        {
            _ = app.Services;
            var versions = app.Services.GetRequiredService<File1VersionStore>();
            await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(_synthDir, "optout", "national_opt_out.csv"));
            await DeliverFile1Async(blobs, versions, alspac, 1, app);
            await DeliverFile1Async(blobs, versions, alspac, 2, app);
            await DeliverFile1Async(blobs, versions, bcs70, 1, app);
        }

        // A newer list before the cycle (every other number dropped): the cycle re-applies it to BCS70, the s251 study.
        Assert.Equal(bcs70, options.S251StudyCode);
        var lines = File.ReadAllLines(Path.Combine(_synthDir, "optout", "national_opt_out.csv"));
        string newer = string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where((_, i) => i % 2 == 0))) + "\n";
        await blobs.GetBlobContainerClient(TtpStorage.Config).GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(BinaryData.FromString(newer), overwrite: true);

        log.WriteLine($"setup {clock.Elapsed.TotalSeconds:F0} s");
        var now = DateTime.UtcNow;
        var (year, quarter) = (now.Year, (now.Month - 1) / 3 + 1);
        string label = $"{year:D4}-Q{quarter}";
        string instance = QuarterlyOptOutOrchestration.InstanceIdFor(year, quarter);
        var settings = Settings("ttp", new()
        {
            ["Workflows:Quarterly:ActiveStudies"] = $"{alspac},{bcs70}",
            ["Workflows:Quarterly:DeadlineDays"] = "200",
            ["Workflows:Quarterly:RemindEvery"] = "30.00:00:00",
            ["Workflows:Quarterly:RecheckEvery"] = "00:00:05",
        });
        await using var reader = Reader(settings);
        var reports = reader.Services.GetRequiredService<WorkflowReportStore>();
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        var manifest = outbox.GetBlobClient(QuarterActivities.ManifestName(label));
        string op = Token(Roles.Operator);

        // Kill 0: BCS70's revision with the newer list is committed, not yet published.
        var file1Versions = reader.Services.GetRequiredService<File1VersionStore>();
        using (var host = Start(settings, OptOutReapplier.RevisionCommittedStep))
        {
            var started = await SendWhenUpAsync(host, HttpMethod.Post, "/api/workflows/quarterly-opt-out", op, new { year, quarter });
            Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
            await KilledAsync(host);
        }

        var halfway = (await file1Versions.GetAsync(bcs70, File1VersionStore.IdFor(bcs70, 1), CancellationToken.None))!;
        Assert.Equal((File1VersionState.Committed, 1), (halfway.State, halfway.Revision));
        log.WriteLine($"kill 0 (revision committed) {clock.Elapsed.TotalSeconds:F0} s");

        // Kill 1: the delta is committed, the manifest (the commit point) is not written.
        using (var host = Start(settings, WorkflowSteps.QuarterDeltaCommitted))
        {
            await KilledAsync(host);
        }

        Assert.Equal([DeltaName(label)], await QuarterBlobsAsync(outbox, label));
        var firstDelta = (await outbox.GetBlobClient(DeltaName(label)).DownloadContentAsync()).Value.Content.ToArray();
        log.WriteLine($"kill 1 (delta committed) {clock.Elapsed.TotalSeconds:F0} s");

        // Kill 2: the manifest is written, the activity has not returned.
        using (var host = Start(settings, WorkflowSteps.QuarterManifestWritten))
        {
            await KilledAsync(host);
        }

        Assert.Equal([DeltaName(label), QuarterActivities.ManifestName(label)], await QuarterBlobsAsync(outbox, label));
        var committed = (await manifest.GetPropertiesAsync()).Value.ETag;
        var deltaCommitted = (await outbox.GetBlobClient(DeltaName(label)).GetPropertiesAsync()).Value.ETag;
        Assert.Null(await reports.GetAsync(QuarterlyOptOutOrchestration.Name, instance, CancellationToken.None));
        log.WriteLine($"kill 2 (manifest written) {clock.Elapsed.TotalSeconds:F0} s");

        JsonElement status;
        using (var host = Start(settings, null))
        {
            status = await CompletedAsync(await UpAsync(host), $"/api/workflows/{instance}", op, host);
        }

        log.WriteLine($"completed {clock.Elapsed.TotalSeconds:F0} s");
        var report = status.GetProperty("output");
        var studies = QuarterlyOptOutTests.Studies(report);
        Assert.Equal(2, studies[alspac].GetProperty("Version").GetInt32());
        Assert.Equal(1, studies[bcs70].GetProperty("Version").GetInt32());

        // One delivery: the manifest and the delta of the first commit, nothing else; the checksums are those of the blobs.
        Assert.Equal([DeltaName(label), QuarterActivities.ManifestName(label)], await QuarterBlobsAsync(outbox, label));
        Assert.Equal(committed, (await manifest.GetPropertiesAsync()).Value.ETag);
        Assert.Equal(deltaCommitted, (await outbox.GetBlobClient(DeltaName(label)).GetPropertiesAsync()).Value.ETag);
        var delta = await QuarterlyOptOutTests.AssertDeliveryAsync(blobs, report, label, [alspac, bcs70]);

        // Before the commit point the re-run wrote the delta again: the same bytes (nobody reads it before the manifest).
        Assert.Equal(firstDelta, (await outbox.GetBlobClient(DeltaName(label)).DownloadContentAsync()).Value.Content.ToArray());
        Assert.NotEmpty(delta);
        Assert.Equal(report.GetProperty("Delivery").GetProperty("DeltaRows").GetInt64(), delta.Count);

        // The revision was finished by the re-run, once: one revision, published, and its opt-out changes in the delivery.
        var revised = (await file1Versions.GetAsync(bcs70, File1VersionStore.IdFor(bcs70, 1), CancellationToken.None))!;
        Assert.Equal((File1VersionState.Accepted, 1, 2), (revised.State, revised.Revision, revised.Revisions.Count));
        var reapplied = report.GetProperty("OptOutReapplied").EnumerateArray().Single(r => r.GetProperty("Study").GetString() == bcs70);
        Assert.Equal(("Revised", 1), (reapplied.GetProperty("Outcome").GetString(), reapplied.GetProperty("Revision").GetInt32()));
        long lifted = reapplied.GetProperty("OptOutsLifted").GetInt64();
        Assert.True(lifted > 0);
        Assert.Equal(revised.Revisions[1].Counts["optOutsLifted"], lifted);
        Assert.True(delta.Count(r => r[5] == bcs70 && r[2] == "national_opt_out_applies" && r[1] == "permission-off") <= lifted); // only those within NHS England's reach are sent
        Assert.Contains(delta, r => r[5] == bcs70 && r[2] == "national_opt_out_applies" && r[1] == "permission-off");

        // One report, the one the workflow returned.
        var stored = (await reports.ListAsync(QuarterlyOptOutOrchestration.Name, CancellationToken.None)).Where(r => r.Id == instance).ToList();
        Assert.Single(stored);
        Assert.Equal(delta.Count, stored[0].Report.GetProperty("Delivery").GetProperty("DeltaRows").GetInt64());
        log.WriteLine($"done {clock.Elapsed.TotalSeconds:F0} s");
    }

    private static async Task<List<string>> QuarterBlobsAsync(BlobContainerClient outbox, string label) =>
        (await outbox.ListNamesAsync()).Where(n => n.StartsWith($"quarters/{label}/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    private static string DeltaName(string label) => $"quarters/{label}/NHSE_DELTA_{label.Replace("-", "", StringComparison.Ordinal)}.csv";

    /// <summary>The host process's settings: the zones it runs, a task hub of this test's own, and the same host id on every start (so a restart takes its partitions back at once).</summary>
    private static Dictionary<string, string> Settings(string zones, Dictionary<string, string> workflow)
    {
        var settings = new Dictionary<string, string>(workflow)
        {
            ["Runtime:Zones"] = zones,
            ["Runtime:HostId"] = LocalStackFixture.UniqueName("kill"),
            ["DurableTaskHubName"] = "w" + Guid.NewGuid().ToString("N")[..20],
            ["Runtime:DurableVisibilityTimeout"] = "00:00:05",
            ["Runtime:BlobPollInterval"] = "00:00:00.500",
        };
        return settings;
    }

    private LocalHostProcess Start(Dictionary<string, string> settings, string? killAt)
    {
        var s = new Dictionary<string, string>(settings);
        if (killAt is not null)
        {
            s["Faults:At"] = killAt;
            s["Faults:Action"] = "Kill";
        }

        return LocalHostProcess.Start(stack.Stack, s, _output);
    }

    /// <summary>Services on the hosts' stack and task hub (stores, the Durable client), with no trigger and no worker of their own.</summary>
    private FunctionAppFactory Reader(Dictionary<string, string> settings)
    {
        var reader = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["DurableTaskHubName"] = settings["DurableTaskHubName"] });
        _ = reader.Services;
        return reader;
    }

    private string Token(string role) =>
        DevelopmentTokens.GetOrCreate(FunctionAppFactory.DevTokenFolder(stack.Stack)).Issue([role], "Olive Operator", TimeSpan.FromMinutes(30));

    private async Task KilledAsync(LocalHostProcess host)
    {
        try
        {
            await Wait.ForAsync(() => Task.FromResult(host.HasExited ? "killed" : null), seconds: 240);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"The host was not killed. Its last lines:\n{string.Join('\n', _output.TakeLast(30))}", e);
        }
    }

    private static async Task<HttpClient> UpAsync(LocalHostProcess host)
    {
        var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        await Wait.ForAsync(async () =>
        {
            try
            {
                await http.GetAsync("/api/health");
                return "up";
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }, seconds: 120);
        return http;
    }

    private static async Task<HttpResponseMessage> SendWhenUpAsync(LocalHostProcess host, HttpMethod method, string url, string token, object body) =>
        await SendAsync(await UpAsync(host), method, url, token, body);

    private async Task<JsonElement> CompletedAsync(HttpClient http, string location, string op, LocalHostProcess? host)
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
            }, seconds: 240);
            return JsonDocument.Parse(done).RootElement.Clone();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{location} did not complete; last status: {last}\n{(host is null ? "" : string.Join('\n', _output.TakeLast(30)))}", e);
        }
    }

    private async Task DeliverFile1Async(BlobServiceClient blobs, File1VersionStore versions, string study, int version, FunctionAppFactory app)
    {
        string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", study), $"{study}_FILE1_v{version}_*.csv").Single();
        await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{study}/{Path.GetFileName(file)}", file);
        var record = await Wait.ForAsync(async () => await versions.GetAsync(study, File1VersionStore.IdFor(study, version), CancellationToken.None) is { State: not File1VersionState.Committed } r ? r : null, logs: app.Logs);
        Assert.Equal(File1VersionState.Accepted, record.State);
    }

    /// <summary>The project's blob of a dataset version (by its metadata), or null.</summary>
    private async Task<BlobItem?> FileOfVersionAsync(string projectId, int version)
    {
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(projectId));
        var found = new List<BlobItem>();
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, null, CancellationToken.None))
        {
            if (blob.Metadata.TryGetValue("version", out var v) && v == version.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                found.Add(blob);
            }
        }

        return found.Count switch
        {
            0 => null,
            1 => found[0],
            _ => throw new Xunit.Sdk.XunitException($"{projectId} has {found.Count} files of version {version}: {string.Join(", ", found.Select(f => f.Name))}"),
        };
    }
}
