using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Linkage.DevStack;
using Linkage.Functions.Catalogue;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Provisioning;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows;
using Linkage.Functions.Workflows.Refresh;
using Linkage.LocalHost;
using Linkage.LocalHost.Functions;
using Linkage.Synth;
using Microsoft.DurableTask.Client;

namespace Linkage.Bench.Azure;

/// <summary>
/// Issue 14's proof item: N annual refreshes started at once through the local host (Durable Task over Azurite, the
/// Cosmos stand-in), each of the same released version of the LSOA11 mappings dataset, each fanning out to the same
/// provisioned projects. Setup (services only, no host): a File 1 and a File 2 through the real intakes (version 1,
/// released at commit), P projects created and their cohorts frozen (so they are eligible, and hold no file yet). Then a
/// host of the TRE side's zones (processor, provisioning) on a fresh task hub; N refreshes (years 2001.., <c>afterVersion</c> 0, so each finds
/// version 1 at once) started concurrently with <see cref="RefreshStarter"/>; waits for all.
/// Verifies nothing is lost or done twice (each instance Completed, one stored report, each project once with one attempt,
/// one sub-orchestration per instance and project, one file record and one blob commit per project, activity executions
/// against the history's schedules) and measures throughput and each step's latency from the history table's timestamps.
/// Prints one JSON object.
/// </summary>
internal static class RefreshBench
{
    private const string Dataset = "nhse_lsoa11_dataset_mapping";

    public static async Task RunAsync(LocalStack stack, DirectoryInfo work, int refreshes, int projectCount)
    {
        double load1Before = LoadAverage();
        var setupClock = Stopwatch.StartNew();
        string keys = Path.Combine(work.FullName, "keys");
        var projectIds = Enumerable.Range(1, projectCount).Select(i => $"LLC_{9000 + i}").ToList();

        // 1. Setup through the services, without a host (nothing triggers on the inboxes).
        await using (var setup = Build(stack, keys, hub: null))
        {
            await SetupAsync(setup, work, projectIds);
        }

        double setupSeconds = setupClock.Elapsed.TotalSeconds;

        // 2. The host of the TRE side's zones on a task hub of its own.
        string hub = "rbench" + Guid.NewGuid().ToString("N")[..12];
        var counter = new StepCounter();
        var logs = new DurableLogCounter();
        await using var app = Build(stack, keys, hub, counter, logs);
        app.MapHttpFunctions(app.Services.GetRequiredService<IReadOnlyList<AppFunction>>());
        await app.StartAsync();
        var durable = app.Services.GetRequiredService<DurableTaskClient>();
        var starter = app.Services.GetRequiredService<RefreshStarter>();
        var blobs = app.Services.GetRequiredService<BlobServiceClient>();

        // Every ETag each project's file blob has had, sampled while the refreshes run.
        using var sampling = new CancellationTokenSource();
        var etags = new ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                await SampleETagsAsync(blobs, projectIds, etags);
                await Task.Delay(50, CancellationToken.None);
            }
        });

        var years = Enumerable.Range(2001, refreshes).ToList();
        var wall = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        var starts = await Task.WhenAll(years.Select(y => starter.StartAsync(new DurableWorkflowClient(durable), Dataset, y, 0, CancellationToken.None)));
        double startCallsSeconds = wall.Elapsed.TotalSeconds;
        var ids = starts.Select(s => s.InstanceId).ToHashSet(StringComparer.Ordinal);

        // Wait for every refresh to end (Completed, Failed or Terminated).
        var ended = new Dictionary<string, OrchestrationMetadata>(StringComparer.Ordinal);
        while (ended.Count < ids.Count && wall.Elapsed < TimeSpan.FromMinutes(20))
        {
            await foreach (var m in durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"refresh-{Dataset}-", FetchInputsAndOutputs = true, PageSize = 1000 }))
            {
                if (ids.Contains(m.InstanceId) && m.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated)
                {
                    ended[m.InstanceId] = m;
                }
            }

            if (ended.Count < ids.Count)
            {
                await Task.Delay(250);
            }
        }

        double allSeconds = wall.Elapsed.TotalSeconds;
        await SampleETagsAsync(blobs, projectIds, etags);
        await sampling.CancelAsync();
        await sampler;
        double load1After = LoadAverage();

        // 3. Verification.
        var problems = new List<string>();
        var all = new List<OrchestrationMetadata>();
        await foreach (var m in durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"refresh-{Dataset}-", FetchInputsAndOutputs = true, PageSize = 1000 }))
        {
            all.Add(m);
        }

        int completed = ended.Values.Count(m => m.RuntimeStatus == OrchestrationRuntimeStatus.Completed);
        if (starts.Count(s => s.Started) != refreshes)
        {
            problems.Add($"{refreshes - starts.Count(s => s.Started)} starts were not started");
        }

        if (completed != refreshes)
        {
            problems.Add($"{refreshes - completed} refreshes did not complete: " + string.Join(", ", ids.Except(ended.Where(e => e.Value.RuntimeStatus == OrchestrationRuntimeStatus.Completed).Select(e => e.Key)).Take(5)));
        }

        var reportStore = app.Services.GetRequiredService<WorkflowReportStore>();
        var stored = await reportStore.ListAsync(AnnualRefreshOrchestration.Name, CancellationToken.None);
        var storedById = stored.GroupBy(r => r.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        int reportsMissing = ids.Count(i => !storedById.ContainsKey(i));
        int reportsDoubled = storedById.Count(r => r.Value > 1);
        if (reportsMissing > 0 || reportsDoubled > 0 || stored.Count != refreshes)
        {
            problems.Add($"stored reports: {stored.Count} for {refreshes} refreshes, {reportsMissing} missing, {reportsDoubled} doubled");
        }

        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var refreshedBy = projectIds.ToDictionary(p => p, _ => 0, StringComparer.Ordinal);
        foreach (var (id, m) in ended.Where(e => e.Value.RuntimeStatus == OrchestrationRuntimeStatus.Completed))
        {
            var report = m.ReadOutputAs<RefreshReport>()!;
            var storedReport = (await reportStore.GetAsync(AnnualRefreshOrchestration.Name, id, CancellationToken.None))?.Report.Deserialize<RefreshReport>();
            if (storedReport is null || storedReport.Projects.Count != report.Projects.Count || storedReport.Version != report.Version)
            {
                problems.Add($"{id}: stored report differs from the output");
            }

            if (report.Outcome != RefreshOutcome.Completed || report.Version != 1)
            {
                problems.Add($"{id}: outcome {report.Outcome}, version {report.Version}");
            }

            var listed = report.Projects.Select(p => p.ProjectId).ToList();
            if (!listed.Order(StringComparer.Ordinal).SequenceEqual(projectIds, StringComparer.Ordinal))
            {
                problems.Add($"{id}: projects listed [{string.Join(",", listed)}], expected each of [{string.Join(",", projectIds)}] once");
            }

            foreach (var p in report.Projects)
            {
                string key = p.Outcome.ToString();
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                if (p.Attempts != 1 || p.Outcome is not (ProjectRefreshOutcome.Refreshed or ProjectRefreshOutcome.Unchanged) || p.Version != 1)
                {
                    problems.Add($"{id}/{p.ProjectId}: {p.Outcome}, {p.Attempts} attempts, version {p.Version} {p.Detail}");
                }

                if (p.Outcome == ProjectRefreshOutcome.Refreshed && refreshedBy.ContainsKey(p.ProjectId))
                {
                    refreshedBy[p.ProjectId]++;
                }
            }
        }

        // One sub-orchestration per (refresh, project), attempt 1, completed.
        var subs = all.Where(m => !ids.Contains(m.InstanceId)).ToList();
        int subsExpected = refreshes * projectCount;
        var subsPerPair = ids.SelectMany(i => projectIds.Select(p => (i, p)))
            .Select(x => subs.Count(s => s.InstanceId.StartsWith($"{x.i}-{x.p}-a", StringComparison.Ordinal)))
            .ToList();
        if (subs.Count != subsExpected || subsPerPair.Any(c => c != 1) || subs.Any(s => s.RuntimeStatus != OrchestrationRuntimeStatus.Completed || !s.InstanceId.EndsWith("-a1", StringComparison.Ordinal)))
        {
            problems.Add($"sub-orchestrations: {subs.Count} for {subsExpected} (instance, project) pairs; {subsPerPair.Count(c => c == 0)} pairs with none, {subsPerPair.Count(c => c > 1)} with more than one; {subs.Count(s => s.RuntimeStatus != OrchestrationRuntimeStatus.Completed)} not completed");
        }

        // Files: one record per project and version; one blob commit each; the blob's ETag never changed once written.
        var store = app.Services.GetRequiredService<ProjectStore>();
        var fileRecords = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in projectIds)
        {
            var files = await store.FilesAsync(p, CancellationToken.None);
            fileRecords[p] = files.Count(f => f.DatasetId == Dataset && f.Version == 1);
            if (files.Count != 1 || fileRecords[p] != 1)
            {
                problems.Add($"{p}: {files.Count} file records ({fileRecords[p]} of {Dataset} v1)");
            }
        }

        int commits = counter.Count(WorkflowSteps.ProjectFileCommitted);
        if (commits != projectCount)
        {
            problems.Add($"project file blobs committed {commits} times for {projectCount} projects (expected once each)");
        }

        var etagCounts = projectIds.ToDictionary(p => p, p => etags.TryGetValue(p, out var e) ? e.Count : 0, StringComparer.Ordinal);
        foreach (var p in projectIds)
        {
            if (etagCounts[p] != 1 || refreshedBy[p] != 1)
            {
                problems.Add($"{p}: {etagCounts[p]} distinct file ETags seen, reported Refreshed by {refreshedBy[p]} refreshes (expected 1 each)");
            }
        }

        // Activity executions (DTFx's TaskActivityStarting, one per execution) against the history's TaskScheduled events.
        var history = await HistoryAsync(stack, hub, ids);
        var scheduled = history.Where(e => e.EventType == "TaskScheduled").ToList();
        var expectedActivities = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [RefreshActivities.FindNewVersion] = refreshes,
            [ReadReleaseActivity.Name] = refreshes,
            [RefreshActivities.ListProjects] = refreshes,
            [RefreshActivities.SaveReport] = refreshes,
            [ProvisioningFunctions.FreezeCohort] = refreshes * projectCount,
            [ProvisioningFunctions.ProvisionDataset] = refreshes * projectCount,
        };
        var scheduledByName = scheduled.GroupBy(e => e.Name).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var executions = logs.Executions();
        var executedByName = executions.GroupBy(e => e.Name).ToDictionary(g => g.Key, g => g.Sum(x => x.Count), StringComparer.Ordinal);
        var reExecuted = executions.Where(e => e.Count > 1).ToList();
        // A failed activity is scheduled again by its retry policy (a re-run: allowed when idempotent, reported).
        var failed = history.Where(e => e.EventType == "TaskFailed").ToList();
        var nameOfTask = scheduled.ToDictionary(e => (e.InstanceId, e.EventId), e => e.Name);
        var failedByName = failed.GroupBy(e => nameOfTask.GetValueOrDefault((e.InstanceId, e.TaskScheduledId), "?")).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var (name, expected) in expectedActivities)
        {
            if (scheduledByName.GetValueOrDefault(name) != expected + failedByName.GetValueOrDefault(name))
            {
                problems.Add($"{name}: scheduled {scheduledByName.GetValueOrDefault(name)} times in the history, expected {expected} and {failedByName.GetValueOrDefault(name)} retries");
            }

            if (executedByName.GetValueOrDefault(name) != scheduledByName.GetValueOrDefault(name))
            {
                problems.Add($"{name}: executed {executedByName.GetValueOrDefault(name)} times for {scheduledByName.GetValueOrDefault(name)} schedules");
            }
        }

        int reportSaves = counter.Count(WorkflowSteps.RefreshReportSaved);
        if (reportSaves != refreshes)
        {
            problems.Add($"SaveRefreshReport reached its end {reportSaves} times for {refreshes} refreshes");
        }

        // 4. Latency per step, from the history's timestamps.
        var byInstance = history.GroupBy(e => e.InstanceId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var steps = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        void Add(string step, double seconds) => (steps.TryGetValue(step, out var l) ? l : steps[step] = []).Add(seconds);
        foreach (var (instance, events) in byInstance)
        {
            var started = events.FirstOrDefault(e => e.EventType == "ExecutionStarted");
            var finished = events.FirstOrDefault(e => e.EventType == "ExecutionCompleted");
            bool parent = ids.Contains(instance);
            if (started is null)
            {
                continue;
            }

            if (finished is not null)
            {
                Add(parent ? "refresh_end_to_end" : "sub_orchestration_own_run", (finished.At - started.At).TotalSeconds);
            }

            if (events.Where(e => e.EventType == "TaskScheduled").MinBy(e => e.At) is { } first)
            {
                Add(parent ? "refresh_start_to_first_activity" : "sub_start_to_first_activity", (first.At - started.At).TotalSeconds);
            }

            foreach (var s in events.Where(e => e.EventType == "TaskScheduled"))
            {
                if (events.FirstOrDefault(e => e.EventType is "TaskCompleted" or "TaskFailed" && e.TaskScheduledId == s.EventId) is { } done)
                {
                    Add(s.Name, (done.At - s.At).TotalSeconds);
                }
            }

            foreach (var s in events.Where(e => e.EventType == "SubOrchestrationInstanceCreated"))
            {
                if (events.FirstOrDefault(e => e.EventType is "SubOrchestrationInstanceCompleted" or "SubOrchestrationInstanceFailed" && e.TaskScheduledId == s.EventId) is { } done)
                {
                    Add("sub_orchestration_" + s.Name, (done.At - s.At).TotalSeconds);
                }
            }
        }

        // A refresh's end-to-end from the client's start call (the history's ExecutionStarted is written by it).
        var createdToDone = ended.Values.Select(m => (m.LastUpdatedAt - startedAt).TotalSeconds).ToList();
        double firstStart = byInstance.Where(b => ids.Contains(b.Key)).SelectMany(b => b.Value).Where(e => e.EventType == "ExecutionStarted").Select(e => e.At).DefaultIfEmpty().Min().ToUnixTimeMilliseconds() / 1000.0;
        double lastEnd = byInstance.Where(b => ids.Contains(b.Key)).SelectMany(b => b.Value).Where(e => e.EventType == "ExecutionCompleted").Select(e => e.At).DefaultIfEmpty().Max().ToUnixTimeMilliseconds() / 1000.0;
        double span = lastEnd - firstStart;
        int activityExecutions = executions.Sum(e => e.Count);

        await app.StopAsync();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["refreshes"] = refreshes,
            ["projects"] = projectCount,
            ["verified"] = problems.Count == 0,
            ["problems"] = problems.Take(30).ToList(),
            ["problem_count"] = problems.Count,
            ["completed"] = completed,
            ["stored_reports"] = stored.Count,
            ["project_outcomes"] = outcomes,
            ["sub_orchestrations"] = subs.Count,
            ["file_records_per_project"] = fileRecords,
            ["file_blob_commits"] = commits,
            ["file_etags_seen_per_project"] = etagCounts,
            ["refreshed_reported_per_project"] = refreshedBy,
            ["activities_scheduled"] = scheduled.Count,
            ["activities_executed"] = activityExecutions,
            ["activities_expected"] = expectedActivities.Values.Sum(),
            ["activity_failures_retried"] = failedByName,
            ["activity_failure_reasons"] = failed.GroupBy(f => f.Failure ?? "?").ToDictionary(g => g.Key, g => g.Count()),
            ["activity_reexecutions"] = reExecuted.Sum(e => e.Count - 1),
            ["activity_reexecuted_names"] = reExecuted.GroupBy(e => e.Name).ToDictionary(g => g.Key, g => g.Sum(x => x.Count - 1)),
            ["durable_warnings"] = logs.Warnings(),
            ["setup_seconds"] = Math.Round(setupSeconds, 1),
            ["start_calls_seconds"] = Math.Round(startCallsSeconds, 2),
            ["all_completed_seconds"] = Math.Round(allSeconds, 2),
            ["history_span_seconds"] = Math.Round(span, 2),
            ["instances_per_min"] = Math.Round(refreshes / allSeconds * 60, 1),
            ["activities_per_s"] = Math.Round(activityExecutions / allSeconds, 2),
            ["start_call_to_completed_seconds"] = Stats(createdToDone),
            ["steps_seconds"] = steps.OrderBy(s => s.Key, StringComparer.Ordinal).ToDictionary(s => s.Key, s => Stats(s.Value)),
            ["load1_before"] = load1Before,
            ["load1_after"] = load1After,
        }));
    }

    private static WebApplication Build(LocalStack stack, string keys, string? hub, StepCounter? counter = null, DurableLogCounter? logs = null)
    {
        // Development: the benchmark wraps its keys with a local key-encryption key, which the app refuses elsewhere.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"], EnvironmentName = Environments.Development });
        builder.Configuration["DataStorage:ConnectionString"] = stack.StorageConnectionString;
        builder.Configuration["Cosmos:Endpoint"] = stack.CosmosEndpoint;
        builder.Configuration["Cosmos:Key"] = stack.CosmosKey;
        builder.Configuration["Keys:LocalFolder"] = keys;
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Azure", LogLevel.Error); // the 404s of existence checks
        if (hub is null)
        {
            builder.AddLinkageApp(); // services only: the setup calls the intakes itself
            return builder.Build();
        }

        // The TRE side's zones (infra/README.md): the refresh reads a version's release state with the processor zone's ReadRelease.
        builder.Configuration["Runtime:Zones"] = "processor,provisioning";
        builder.Configuration["DurableTaskHubName"] = hub;
        // Timers far away: only the benchmark's refreshes run.
        foreach (var schedule in new[] { "AnnualRefreshSchedule", "WorkflowPurgeSchedule", "ProjectFilesPurgeSchedule", "DeliverySweepSchedule", "QuarterlyOptOutSchedule" })
        {
            builder.Configuration[schedule] = "0 30 3 1 1 *";
        }

        builder.Logging.ClearProviders(); // stdout carries the JSON only; warnings are counted
        builder.Logging.AddFilter("DurableTask.Core", LogLevel.Information);
        builder.Logging.AddProvider(logs!);
        builder.AddLinkageApp();
        builder.Services.AddSingleton<IStepFaults>(counter!);
        builder.AddLocalFunctionsHost(typeof(LinkageAppExtensions).Assembly);
        return builder.Build();
    }

    /// <summary>A File 1 (its permission snapshot) and a File 2 through the intakes, then the projects with frozen cohorts.</summary>
    private static async Task SetupAsync(WebApplication app, DirectoryInfo work, List<string> projectIds)
    {
        var blobs = app.Services.GetRequiredService<BlobServiceClient>();
        var synth = new SynthOptions { Seed = 14, Studies = ["UKBB"], Participants = 2000, File2Rows = 1, Quarters = 1, InvalidNhsShare = 0 };
        new SynthGenerator(synth).Generate(Path.Combine(work.FullName, "a"), null, CancellationToken.None);
        string file1 = Directory.GetFiles(Path.Combine(work.FullName, "a", "file1", "UKBB")).Single();
        var config = blobs.GetBlobContainerClient(TtpStorage.Config);
        await config.CreateIfNotExistsAsync();
        await config.GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(Path.Combine(work.FullName, "a", SynthGenerator.OptOutFolder, "national_opt_out.csv"), overwrite: true);
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        var file1Blob = inbox.GetBlobClient("UKBB/" + Path.GetFileName(file1));
        var up1 = await file1Blob.UploadAsync(file1, overwrite: true);
        var r1 = await app.Services.GetRequiredService<File1IntakeService>().ProcessAsync(file1Blob, up1.Value.ETag, CancellationToken.None);

        string nhsOutput = Path.Combine(work.FullName, "nhs_output.csv");
        string nhsPath = r1.Record.Outputs["nhsOutput"];
        await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).GetBlobClient(nhsPath[(TtpStorage.NhseOutbox.Length + 1)..]).DownloadToAsync(nhsOutput);
        new SynthGenerator(synth with { File2Rows = 20_000, NhsOutputPath = nhsOutput }).Generate(Path.Combine(work.FullName, "b"), null, CancellationToken.None);
        string file2 = Directory.GetFiles(Path.Combine(work.FullName, "b", "file2", Dataset)).Single();
        FewAreas(file2);
        var file2Inbox = blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox);
        await file2Inbox.CreateIfNotExistsAsync();
        var file2Blob = file2Inbox.GetBlobClient($"{Dataset}/{Path.GetFileName(file2)}");
        var up2 = await file2Blob.UploadAsync(file2, overwrite: true);
        await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(file2Blob, up2.Value.ETag, CancellationToken.None);
        if (await app.Services.GetRequiredService<CurationCatalogue>().GetReleasedVersionAsync(Dataset, 1, CancellationToken.None) is null)
        {
            throw new InvalidOperationException($"{Dataset} v1 was not released at commit: the benchmark needs a released version.");
        }

        // Nothing left in the inboxes for the host's blob triggers (the processor zone runs there).
        await file1Blob.DeleteIfExistsAsync();
        await file2Blob.DeleteIfExistsAsync();

        var store = app.Services.GetRequiredService<ProjectStore>();
        var provisioner = app.Services.GetRequiredService<ProjectProvisioner>();
        foreach (var id in projectIds)
        {
            await store.CreateAsync(new ProjectDocument
            {
                ProjectId = id, Title = "Refresh benchmark", Studies = ["UKBB"], Datasets = [Dataset], EndDate = new DateOnly(2099, 1, 1), CreatedAt = DateTimeOffset.UtcNow,
            }, CancellationToken.None);
            await provisioner.FreezeCohortAsync(id, CancellationToken.None); // eligible for the refresh, with no file yet
        }
    }

    /// <summary>Five LSOAs only: no small cells, so the version is released at commit (no disclosure review to wait for).</summary>
    private static void FewAreas(string file2)
    {
        var lines = File.ReadAllLines(file2);
        int column = Array.IndexOf(lines[0].Split(','), "lsoa11cd");
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            cells[column] = $"E01{i % 5:D6}";
            lines[i] = string.Join(',', cells);
        }

        File.WriteAllLines(file2, lines);
    }

    private static async Task SampleETagsAsync(BlobServiceClient blobs, List<string> projectIds, ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> etags)
    {
        foreach (var p in projectIds)
        {
            try
            {
                await foreach (var b in blobs.GetBlobContainerClient(ProjectStorage.Container(p)).GetBlobsAsync())
                {
                    etags.GetOrAdd(p, _ => new())[$"{b.Name} {b.Properties.ETag}"] = 0;
                }
            }
            catch (global::Azure.RequestFailedException e) when (e.Status == 404)
            {
            }
        }
    }

    private sealed record HistoryEvent(string InstanceId, string EventType, string Name, int EventId, int TaskScheduledId, DateTimeOffset At, string? Failure = null);

    /// <summary>Every history event of the hub's instances (the Azure Storage backend's History table).</summary>
    private static async Task<List<HistoryEvent>> HistoryAsync(LocalStack stack, string hub, HashSet<string> ids)
    {
        var table = new TableServiceClient(stack.StorageConnectionString).GetTableClient(hub + "History");
        var list = new List<HistoryEvent>();
        await foreach (var e in table.QueryAsync<TableEntity>())
        {
            if (e.GetString("EventType") is not { } type)
            {
                continue; // the sentinel row
            }

            var at = e.TryGetValue("_Timestamp", out var t) && t is DateTimeOffset dto ? dto : e.Timestamp ?? default;
            string? failure = type is "TaskFailed" or "SubOrchestrationInstanceFailed" ? FirstLine(e.GetString("Reason") ?? e.GetString("FailureDetails") ?? e.GetString("Details")) : null;
            list.Add(new HistoryEvent(e.PartitionKey, type, e.GetString("Name") ?? "", e.GetInt32("EventId") ?? -1, e.GetInt32("TaskScheduledId") ?? -1, at, failure));
        }

        return list;
    }

    private static string? FirstLine(string? text) => text?.Split('\n', 2)[0].Trim() is { Length: > 0 } line ? (line.Length > 240 ? line[..240] : line) : null;

    private static Dictionary<string, double> Stats(List<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return new() { ["n"] = 0 };
        }

        double Pct(double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
        double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        return new()
        {
            ["n"] = sorted.Count,
            ["median"] = Math.Round(median, 3),
            ["p95"] = Math.Round(Pct(0.95), 3),
            ["max"] = Math.Round(sorted[^1], 3),
        };
    }

    private static double LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : double.NaN;

    /// <summary>Counts the app's named steps (the fault-injection hook): a project file's blob commit, a refresh report's save.</summary>
    private sealed class StepCounter : IStepFaults
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public ValueTask ReachedAsync(string step, CancellationToken cancellationToken)
        {
            _counts.AddOrUpdate(step, 1, (_, c) => c + 1);
            return ValueTask.CompletedTask;
        }

        public int Count(string step) => _counts.GetValueOrDefault(step);
    }

    /// <summary>DTFx's activity starts (one per execution, by instance and task id) and the Durable Task warnings, by event.</summary>
    private sealed class DurableLogCounter : ILoggerProvider
    {
        private static readonly System.Text.RegularExpressions.Regex StartMessage = new(@"^(\S+): Starting task activity \[([^#\]]+)#(\d+)\]");
        private readonly ConcurrentDictionary<(string Instance, string Task, string Name), int> _starts = new();
        private readonly ConcurrentDictionary<string, int> _warnings = new(StringComparer.Ordinal);

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public List<(string Name, int Count)> Executions() => _starts.Select(s => (s.Key.Name, s.Value)).ToList();

        public Dictionary<string, int> Warnings() => _warnings.OrderBy(w => w.Key, StringComparer.Ordinal).ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal);

        public void Dispose()
        {
        }

        private sealed class Logger(DurableLogCounter owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // "<instance>: Starting task activity [<name>#<task id>]"
                if (eventId.Name == "TaskActivityStarting" && StartMessage.Match(formatter(state, exception)) is { Success: true } m)
                {
                    owner._starts.AddOrUpdate((m.Groups[1].Value, m.Groups[3].Value, m.Groups[2].Value), 1, (_, c) => c + 1);
                }
                else if (logLevel >= LogLevel.Warning)
                {
                    owner._warnings.AddOrUpdate($"{category}:{eventId.Name ?? eventId.Id.ToString(CultureInfo.InvariantCulture)}", 1, (_, c) => c + 1);
                }
            }
        }
    }
}
