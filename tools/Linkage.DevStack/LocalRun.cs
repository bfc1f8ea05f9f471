using System.Diagnostics;
using System.Runtime.InteropServices;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Linkage.DevStack;

/// <summary>
/// The README's "run locally" command: starts (or reuses) the persistent local stack, generates synthetic data with
/// <c>linkage synth</c>, starts the function app on http://localhost:7071 against the stack, drops the synthetic files
/// into the inboxes quarter by quarter (waiting for each to be processed), prints what came out, and keeps the app
/// serving until Ctrl-C. Expects Release builds of the CLI and the app (run-local.sh builds them).
/// </summary>
internal static class LocalRun
{
    private const string AppUrl = "http://localhost:7071";

    public static async Task<int> RunAsync(string[] args)
    {
        int participants = args.Length >= 2 && args[0] == "--participants" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2000;
        string root = RepositoryRoot.Find();
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        var persistent = LocalStackOptions.ForLocalRun(null);
        var options = new LocalStackOptions { DataDirectory = persistent.DataDirectory, StackFile = persistent.StackFile, Persistent = true, ReuseRunning = true };
        Console.WriteLine("== starting the local stack (Azurite + Cosmos stand-in)");
        await using var stack = await LocalStack.StartAsync(options, stop.Token);
        if (!stack.Reused)
        {
            await stack.PublishAsync(options.StackFile!, stop.Token);
        }

        Console.WriteLine($"   blobs {stack.BlobServiceUri}  cosmos {stack.CosmosEndpoint}{(stack.Reused ? "  (reused)" : "")}");

        string synthDir = Path.Combine(root, ".local", "synth");
        Console.WriteLine($"== generating synthetic data into {synthDir}");
        if (Directory.Exists(synthDir))
        {
            Directory.Delete(synthDir, recursive: true);
        }

        int synth = await RunToEndAsync("dotnet", [Path.Combine(root, "src/Linkage.Cli/bin/Release/net10.0/linkage.dll"), "synth", "--out", synthDir,
            "--participants", participants.ToString(System.Globalization.CultureInfo.InvariantCulture), "--file2-rows", "200000", "--invalid-nhs-share", "0"], root, stop.Token);
        if (synth != 0)
        {
            await Console.Error.WriteLineAsync("linkage synth failed.");
            return 1;
        }

        Console.WriteLine($"== starting the function app on {AppUrl}");
        var synthStudies = Directory.GetDirectories(Path.Combine(synthDir, "file1")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        using var app = StartApp(root, stack, synthStudies);
        try
        {
            await WaitHealthyAsync(stop.Token);
            var blobs = new BlobServiceClient(stack.StorageConnectionString);
            await UploadAsync(blobs, "ttp-config", "national-opt-out/national_opt_out.csv", Path.Combine(synthDir, "optout", "national_opt_out.csv"), stop.Token);

            var file1s = Directory.GetFiles(Path.Combine(synthDir, "file1"), "*.csv", SearchOption.AllDirectories);
            // The synthetic first quarter stands for the calendar quarter before this one, the second for this one: its
            // opt-out cycle starts first and waits for the second quarter's File 1s, as it would for providers.
            var (thisYear, thisQuarter) = (DateTime.UtcNow.Year, (DateTime.UtcNow.Month - 1) / 3 + 1);
            var (lastYear, lastQuarter) = thisQuarter == 1 ? (thisYear - 1, 4) : (thisYear, thisQuarter - 1);
            string? cycle = null;
            foreach (var quarter in file1s.GroupBy(QuarterOf).OrderBy(g => g.Key))
            {
                if (quarter.Key == 2)
                {
                    await RunQuarterAsync(lastYear, lastQuarter, wait: true, stop.Token); // delivers the first quarter's files
                    cycle = await RunQuarterAsync(thisYear, thisQuarter, wait: false, stop.Token);
                }

                Console.WriteLine($"== dropping quarter {quarter.Key}'s File 1s into ttp-file1-inbox");
                foreach (var file in quarter)
                {
                    string study = Path.GetFileName(Path.GetDirectoryName(file)!);
                    await UploadAsync(blobs, "ttp-file1-inbox", $"{study}/{Path.GetFileName(file)}", file, stop.Token);
                }

                await WaitEmptyAsync(blobs, "ttp-file1-inbox", stop.Token);
            }

            if (cycle is not null)
            {
                await PrintWorkflowAsync(await WaitWorkflowAsync(cycle, stop.Token));
            }

            // NHS England would link the NHS Outputs and send back records keyed by their TTP tokens: synth does that part.
            string nhsOutput = await ConcatenateLatestNhsOutputsAsync(blobs, Path.Combine(root, ".local", "nhs_output.csv"), stop.Token);
            string file2Dir = Path.Combine(root, ".local", "synth-file2");
            if (Directory.Exists(file2Dir))
            {
                Directory.Delete(file2Dir, recursive: true);
            }

            Console.WriteLine("== generating File 2s from the NHS Outputs (as NHS England would send them)");
            if (await RunToEndAsync("dotnet", [Path.Combine(root, "src/Linkage.Cli/bin/Release/net10.0/linkage.dll"), "synth", "--out", file2Dir,
                "--participants", participants.ToString(System.Globalization.CultureInfo.InvariantCulture), "--file2-rows", "200000",
                "--invalid-nhs-share", "0", "--nhs-output", nhsOutput], root, stop.Token) != 0)
            {
                await Console.Error.WriteLineAsync("linkage synth --nhs-output failed.");
                return 1;
            }

            // NHS England's File 2s, the London SDE's (keyed by its patient key) and the IMD reference table all come
            // through the same inbox and rules; the folder is the dataset id.
            Console.WriteLine("== dropping the File 2s and the IMD reference table into processor-file2-inbox");
            foreach (var file in Directory.GetFiles(Path.Combine(file2Dir, "file2"), "*.csv", SearchOption.AllDirectories))
            {
                string dataset = Path.GetFileName(Path.GetDirectoryName(file)!);
                await UploadAsync(blobs, "processor-file2-inbox", $"{dataset}/{Path.GetFileName(file)}", file, stop.Token);
            }

            await UploadAsync(blobs, "processor-file2-inbox", "imd2019_lsoa11/imd2019_lsoa11.csv", Path.Combine(file2Dir, "reference", "imd2019_lsoa11.csv"), stop.Token);

            await WaitEmptyAsync(blobs, "processor-file2-inbox", stop.Token);
            await PrintSummaryAsync(blobs, stop.Token);
            await PrintDeliveriesAsync(stop.Token);
            await PrintCatalogueAsync(stop.Token);
            var studies = Directory.GetDirectories(Path.Combine(synthDir, "file1")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
            await DemoProjectsAsync(studies, stop.Token);
            await DemoRefreshesAsync(Directory.GetFiles(Path.Combine(root, "config", "datasets"), "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToList(), stop.Token);
            Console.WriteLine($"== the app is serving on {AppUrl}; Ctrl-C stops it and the stack. Try:");
            Console.WriteLine($"   curl {AppUrl}/api/health");
            Console.WriteLine("   TOKEN=$(dotnet src/Linkage.Cli/bin/Release/net10.0/linkage.dll dev-token --role Linkage.Operator)");
            Console.WriteLine($"   curl -H \"Authorization: Bearer $TOKEN\" '{AppUrl}/api/deliveries?state=Held'");
            Console.WriteLine($"   curl -H \"Authorization: Bearer $TOKEN\" '{AppUrl}/api/workflows?name=annual-refresh'");
            Console.WriteLine("   READER=$(dotnet src/Linkage.Cli/bin/Release/net10.0/linkage.dll dev-token --role Linkage.Reader)");
            Console.WriteLine($"   curl -H \"Authorization: Bearer $READER\" '{AppUrl}/api/datasets/nhse_lsoa11_dataset_mapping'");
            Console.WriteLine("   REVIEWER=$(dotnet src/Linkage.Cli/bin/Release/net10.0/linkage.dll dev-token --role Linkage.Reviewer --name 'Rita Reviewer')");
            Console.WriteLine($"   curl -H \"Authorization: Bearer $REVIEWER\" '{AppUrl}/api/reviews'");
            Console.WriteLine("   ADMIN=$(dotnet src/Linkage.Cli/bin/Release/net10.0/linkage.dll dev-token --role Linkage.ProjectAdmin)");
            Console.WriteLine($"   curl -H \"Authorization: Bearer $ADMIN\" '{AppUrl}/api/projects/LLC_0001/files'");
            await app.WaitForExitAsync(stop.Token);
            return app.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("== stopping");
            return 0;
        }
        finally
        {
            if (!app.HasExited)
            {
                app.Kill(entireProcessTree: true);
                await app.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    private static int QuarterOf(string file1Path)
    {
        // <STUDY>_FILE1_v<N>_<YYYYMMDD>.csv
        string name = Path.GetFileNameWithoutExtension(file1Path);
        string[] parts = name.Split('_');
        return int.Parse(parts[^2].TrimStart('v'), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Process StartApp(string root, LocalStack stack, IReadOnlyList<string> activeStudies)
    {
        // The local host runs the function app's own functions (the Functions host cannot be installed here).
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(root, "tools/Linkage.LocalHost/bin/Release/net10.0/Linkage.LocalHost.dll")])
        {
            WorkingDirectory = root,
            UseShellExecute = false,
        };
        foreach (var (name, value) in stack.EnvironmentVariables())
        {
            psi.Environment[name] = value;
        }

        psi.Environment["ASPNETCORE_URLS"] = AppUrl;
        psi.Environment["File2__SpecsFolder"] = Path.Combine(root, "config", "datasets");
        // The demo's quarterly cycle waits for the synthetic second quarter whatever today's date: providers get a year,
        // and the waits re-check every few seconds (production: 30 days, hourly).
        psi.Environment["Workflows__Quarterly__DeadlineDays"] = "366";
        psi.Environment["Workflows__Quarterly__ActiveStudies"] = string.Join(',', activeStudies);
        psi.Environment["Workflows__Quarterly__RecheckEvery"] = "00:00:05";
        psi.Environment["Workflows__Refresh__RecheckEvery"] = "00:00:05";
        psi.Environment["Workflows__Refresh__ReviewRecheckEvery"] = "00:00:05";
        return Process.Start(psi) ?? throw new InvalidOperationException("Could not start the function app.");
    }

    private static async Task WaitHealthyAsync(CancellationToken ct)
    {
        using var http = new HttpClient();
        for (int i = 0; i < 120; i++)
        {
            try
            {
                var response = await http.GetAsync(new Uri(AppUrl + "/api/health"), ct);
                if (response.IsSuccessStatusCode)
                {
                    Console.WriteLine("   healthy");
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500, ct);
        }

        throw new TimeoutException("The function app did not become healthy within 60 s.");
    }

    private static async Task UploadAsync(BlobServiceClient blobs, string container, string name, string path, CancellationToken ct)
    {
        var c = blobs.GetBlobContainerClient(container);
        await c.CreateIfNotExistsAsync(cancellationToken: ct);
        await c.GetBlobClient(name).UploadAsync(path, overwrite: true, ct);
        Console.WriteLine($"   {container}/{name}");
    }

    private static async Task WaitEmptyAsync(BlobServiceClient blobs, string container, CancellationToken ct)
    {
        var c = blobs.GetBlobContainerClient(container);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(10))
        {
            bool any = false;
            await foreach (var _ in c.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, ct))
            {
                any = true;
                break;
            }

            if (!any)
            {
                Console.WriteLine($"   processed in {sw.Elapsed.TotalSeconds:F1} s");
                return;
            }

            await Task.Delay(500, ct);
        }

        Console.WriteLine($"   {container} still has files after 10 minutes; see the app's log.");
    }

    /// <summary>The newest NHS Output of each study, as one CSV (one header).</summary>
    private static async Task<string> ConcatenateLatestNhsOutputsAsync(BlobServiceClient blobs, string path, CancellationToken ct)
    {
        var latest = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var b in blobs.GetBlobContainerClient("ttp-outbox-nhse").GetBlobsAsync(BlobTraits.None, BlobStates.None, "nhs-output/", ct))
        {
            string study = b.Name.Split('/')[1];
            if (!latest.TryGetValue(study, out var current) || string.CompareOrdinal(b.Name, current) > 0)
            {
                latest[study] = b.Name; // names end _v<N>_<YYYYMMDD>.csv: the latest date sorts last
            }
        }

        await using var writer = new StreamWriter(path);
        bool first = true;
        foreach (var name in latest.Values)
        {
            var content = (await blobs.GetBlobContainerClient("ttp-outbox-nhse").GetBlobClient(name).DownloadContentAsync(ct)).Value.Content.ToString();
            foreach (var line in content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(first ? 0 : 1))
            {
                await writer.WriteLineAsync(line);
            }

            first = false;
        }

        return path;
    }

    /// <summary>The deliveries by state, through the app's own API with a development token (what an operator would see).</summary>
    private static async Task PrintDeliveriesAsync(CancellationToken ct)
    {
        string token = Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate().Issue(["Linkage.Operator"], "run-local", TimeSpan.FromMinutes(5));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, AppUrl + "/api/deliveries");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var byState = doc.RootElement.GetProperty("deliveries").EnumerateArray()
            .GroupBy(d => $"{d.GetProperty("state").GetString()} {d.GetProperty("outcome").GetString()}".Trim())
            .Select(g => $"{g.Count()} {g.Key}");
        Console.WriteLine($"== deliveries (GET /api/deliveries as an operator): {string.Join(", ", byState)}");
    }

    /// <summary>Each dataset's current version and what awaits disclosure review, through the API (a reader's and a reviewer's view).</summary>
    private static async Task PrintCatalogueAsync(CancellationToken ct)
    {
        var tokens = Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate();
        using var http = new HttpClient();
        async Task<System.Text.Json.JsonElement> GetAsync(string path, string role)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, AppUrl + path);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Issue([role], "run-local", TimeSpan.FromMinutes(5)));
            using var response = await http.SendAsync(request, ct);
            return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone();
        }

        var datasets = await GetAsync("/api/datasets", "Linkage.Reader");
        var pending = (await GetAsync("/api/reviews", "Linkage.Reviewer")).GetProperty("versions").EnumerateArray()
            .ToLookup(v => v.GetProperty("datasetId").GetString(), v => v.GetProperty("version").GetInt32());
        Console.WriteLine("== catalogue (GET /api/datasets as a reader; GET /api/reviews as a reviewer)");
        foreach (var d in datasets.GetProperty("datasets").EnumerateArray())
        {
            string id = d.GetProperty("id").GetString()!;
            string current = d.GetProperty("currentVersion") is { ValueKind: System.Text.Json.JsonValueKind.Number } v ? $"current v{v.GetInt32()}" : "no released version";
            string waiting = pending[id].Any() ? $"; awaiting review: {string.Join(", ", pending[id].Select(n => $"v{n}"))}" : "";
            Console.WriteLine($"   {id,-30} {current}{waiting}");
        }
    }

    /// <summary>One call to the app's API as a demo user of <paramref name="role"/> (a development token).</summary>
    private static async Task<(int Status, System.Text.Json.JsonElement Body, string? Location)> ApiAsync(HttpMethod method, string path, string role, string name, object? body, CancellationToken ct)
    {
        var tokens = Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate();
        using var http = new HttpClient { BaseAddress = new Uri(AppUrl) };
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Issue([role], name, TimeSpan.FromMinutes(5)));
        using var response = await http.SendAsync(request, ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        return ((int)response.StatusCode, text.Length == 0 ? default : System.Text.Json.JsonDocument.Parse(text).RootElement.Clone(), response.Headers.Location?.ToString() ?? (response.StatusCode == System.Net.HttpStatusCode.OK && text.Contains("statusUrl", StringComparison.Ordinal) ? System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("statusUrl").GetString() : null));
    }

    /// <summary>Starts a quarter's opt-out cycle as the operator would; with <paramref name="wait"/>, waits for it and prints its report. Returns its status URL.</summary>
    private static async Task<string> RunQuarterAsync(int year, int quarter, bool wait, CancellationToken ct)
    {
        var started = await ApiAsync(HttpMethod.Post, "/api/workflows/quarterly-opt-out", "Linkage.Operator", "Olive Operator (demo)", new { year, quarter }, ct);
        string location = started.Location ?? throw new InvalidOperationException($"Starting the {year}-Q{quarter} cycle answered HTTP {started.Status}.");
        Console.WriteLine($"== quarterly opt-out cycle {year}-Q{quarter} ({(started.Status == 202 ? "started" : "exists")}: {location})");
        if (wait)
        {
            await PrintWorkflowAsync(await WaitWorkflowAsync(location, ct));
        }

        return location;
    }

    private static async Task<System.Text.Json.JsonElement> WaitWorkflowAsync(string location, CancellationToken ct)
    {
        for (int i = 0; ; i++)
        {
            var status = (await ApiAsync(HttpMethod.Get, location, "Linkage.Operator", "run-local", null, ct)).Body;
            string state = status.GetProperty("runtimeStatus").GetString()!;
            if (state is "Completed" or "Failed" or "Terminated" || i == 600)
            {
                return status;
            }

            await Task.Delay(500, ct);
        }
    }

    /// <summary>A workflow's status and the gist of its report: names and counts only.</summary>
    private static Task PrintWorkflowAsync(System.Text.Json.JsonElement status)
    {
        string id = status.GetProperty("instanceId").GetString()!;
        string state = status.GetProperty("runtimeStatus").GetString()!;
        Console.WriteLine($"   {id}: {state}{(status.TryGetProperty("failure", out var f) && f.ValueKind == System.Text.Json.JsonValueKind.String ? " — " + f.GetString() : "")}");
        if (!status.TryGetProperty("output", out var report) || report.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return Task.CompletedTask;
        }

        if (report.TryGetProperty("Studies", out var studies))
        {
            foreach (var s in studies.EnumerateArray())
            {
                var changes = s.GetProperty("Changes");
                string counts = string.Join(", ", changes.EnumerateObject().Where(c => c.Value.GetInt64() > 0).Select(c => $"{c.Name} {c.Value.GetInt64()}"));
                Console.WriteLine($"     {s.GetProperty("Study").GetString(),-8} {s.GetProperty("State").GetString(),-12} v{s.GetProperty("Version")}  {s.GetProperty("Participants").GetInt64(),7} participants  {counts}");
            }

            if (report.TryGetProperty("OptOutReapplied", out var reapplied) && reapplied.GetArrayLength() > 0)
            {
                Console.WriteLine("     opt-out list re-applied: " + string.Join("; ", reapplied.EnumerateArray().Select(r =>
                    $"{r.GetProperty("Study").GetString()} {r.GetProperty("Outcome").GetString()}" +
                    (r.GetProperty("Outcome").GetString() == "Revised" ? $" (revision {r.GetProperty("Revision").GetInt32()}: +{r.GetProperty("OptOutsStarted").GetInt64()} / -{r.GetProperty("OptOutsLifted").GetInt64()})" : ""))));
            }

            var delivery = report.GetProperty("Delivery");
            Console.WriteLine($"     to NHS England: {delivery.GetProperty("Manifest").GetString()} ({delivery.GetProperty("Files").GetArrayLength()} files, {delivery.GetProperty("DeltaRows").GetInt64()} delta rows); opt-out list {(report.GetProperty("OptOutList").GetProperty("Usable").GetBoolean() ? "usable" : "NOT usable: " + report.GetProperty("OptOutList").GetProperty("Reason").GetString())}; held: {(report.GetProperty("HeldStudies").GetArrayLength() == 0 ? "none" : string.Join(", ", report.GetProperty("HeldStudies").EnumerateArray().Select(h => h.GetString())))}");
        }
        else if (report.TryGetProperty("Projects", out var projects))
        {
            Console.WriteLine($"     {report.GetProperty("Outcome").GetString()}: version {report.GetProperty("Version")}, {report.GetProperty("VersionRows")} rows{(report.GetProperty("Late").GetBoolean() ? ", late" : "")}{(report.GetProperty("Reason").ValueKind == System.Text.Json.JsonValueKind.String ? " — " + report.GetProperty("Reason").GetString() : "")}");
            foreach (var p in projects.EnumerateArray())
            {
                Console.WriteLine($"     {p.GetProperty("ProjectId").GetString()}: {p.GetProperty("Outcome").GetString()}{(p.GetProperty("Detail").ValueKind == System.Text.Json.JsonValueKind.String ? " (" + p.GetProperty("Detail").GetString() + ")" : "")}");
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>One annual refresh per synthetic dataset, started as the operator would: each takes the version curated above and re-provisions the projects that use it.</summary>
    private static async Task DemoRefreshesAsync(IReadOnlyList<string> datasets, CancellationToken ct)
    {
        Console.WriteLine("== annual refresh of each dataset (the operator starts this year's; the timer would on the expected month)");
        var started = new List<string>();
        foreach (var dataset in datasets)
        {
            var answer = await ApiAsync(HttpMethod.Post, "/api/workflows/annual-refresh", "Linkage.Operator", "Olive Operator (demo)", new { dataset }, ct);
            if (answer.Location is { } location)
            {
                started.Add(location);
            }
            else
            {
                Console.WriteLine($"   {dataset}: HTTP {answer.Status}");
            }
        }

        foreach (var location in started)
        {
            await PrintWorkflowAsync(await WaitWorkflowAsync(location, ct));
        }
    }

    /// <summary>
    /// The demonstration of review and provisioning, through the API as each role would use it: two demo reviewers approve
    /// every version awaiting review (synthetic data only), a project admin creates two projects and provisions them, and
    /// their files are printed. A second run finds the projects and provisions nothing twice.
    /// </summary>
    private static async Task DemoProjectsAsync(IReadOnlyList<string> studies, CancellationToken ct)
    {
        var tokens = Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate();
        using var http = new HttpClient { BaseAddress = new Uri(AppUrl) };
        async Task<(int Status, System.Text.Json.JsonElement Body, string? Location)> SendAsync(HttpMethod method, string path, string role, string name, object? body = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Issue([role], name, TimeSpan.FromMinutes(5)));
            using var response = await http.SendAsync(request, ct);
            string text = await response.Content.ReadAsStringAsync(ct);
            return ((int)response.StatusCode, text.Length == 0 ? default : System.Text.Json.JsonDocument.Parse(text).RootElement.Clone(), response.Headers.Location?.ToString());
        }

        Console.WriteLine("== disclosure review (demo reviewers approve every flagged item of the synthetic versions)");
        var pending = (await SendAsync(HttpMethod.Get, "/api/reviews", "Linkage.Reviewer", "Rita Reviewer (demo)")).Body.GetProperty("versions").EnumerateArray().ToList();
        foreach (var v in pending)
        {
            string ds = v.GetProperty("datasetId").GetString()!;
            int n = v.GetProperty("version").GetInt32();
            var items = (await SendAsync(HttpMethod.Get, $"/api/datasets/{ds}/versions/{n}/risk", "Linkage.Reviewer", "Rita Reviewer (demo)")).Body
                .GetProperty("flaggedItems").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
            string release = "";
            foreach (var reviewer in new[] { "Rita Reviewer (demo)", "Raj Reviewer (demo)" })
            {
                var answer = await SendAsync(HttpMethod.Post, $"/api/datasets/{ds}/versions/{n}/review", "Linkage.Reviewer", reviewer, new { decision = "approve", notes = "synthetic data, demo", acceptedItems = items });
                release = answer.Status == 200 ? answer.Body.GetProperty("release").GetString()! : $"HTTP {answer.Status}";
            }

            Console.WriteLine($"   {ds} v{n}: {items.Count} flagged items accepted by two reviewers -> {release}");
        }

        Console.WriteLine("== projects (a project admin creates and provisions two, through the API)");
        var projects = new[]
        {
            (Id: "LLC_0001", Title: "Hospital use and deprivation (demo)", Studies: studies, Datasets: new[] { "nhse_hes_apc", "imd2019_lsoa11" }),
            (Id: "LLC_0002", Title: "Place and health (demo)", Studies: (IReadOnlyList<string>)studies.Take(1).ToList(), Datasets: new[] { "imd2019_lsoa11" }),
        };
        foreach (var p in projects)
        {
            var created = await SendAsync(HttpMethod.Post, "/api/projects", "Linkage.ProjectAdmin", "Pat ProjectAdmin (demo)", new { id = p.Id, title = p.Title, studies = p.Studies, datasets = p.Datasets, endDate = DateTime.UtcNow.AddYears(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) });
            var started = await SendAsync(HttpMethod.Post, $"/api/projects/{p.Id}/provision", "Linkage.ProjectAdmin", "Pat ProjectAdmin (demo)");
            string state = "?";
            for (int i = 0; i < 240 && started.Location is not null; i++)
            {
                state = (await SendAsync(HttpMethod.Get, started.Location, "Linkage.Operator", "run-local")).Body.GetProperty("runtimeStatus").GetString()!;
                if (state is "Completed" or "Failed" or "Terminated")
                {
                    break;
                }

                await Task.Delay(500, ct);
            }

            Console.WriteLine($"   {p.Id} ({(created.Status == 201 ? "created" : "exists")}): provisioning {state}");
            var files = (await SendAsync(HttpMethod.Get, $"/api/projects/{p.Id}/files", "Linkage.ProjectAdmin", "Pat ProjectAdmin (demo)")).Body;
            foreach (var f in files.GetProperty("files").EnumerateArray())
            {
                Console.WriteLine($"     {files.GetProperty("container").GetString()}/{f.GetProperty("name").GetString(),-48} {f.GetProperty("rows").GetInt64(),9} rows  {(f.GetProperty("participants").ValueKind == System.Text.Json.JsonValueKind.Number ? f.GetProperty("participants").GetInt64() + " people" : "reference")}");
            }
        }
    }

    private static async Task PrintSummaryAsync(BlobServiceClient blobs, CancellationToken ct)
    {
        Console.WriteLine("== what the pipeline wrote");
        await foreach (var container in blobs.GetBlobContainersAsync(cancellationToken: ct))
        {
            if (container.Name == "azure-webjobs-hosts" || container.Name.StartsWith("linkagelocal-", StringComparison.Ordinal))
            {
                continue;
            }

            int count = 0;
            long bytes = 0;
            await foreach (var b in blobs.GetBlobContainerClient(container.Name).GetBlobsAsync(BlobTraits.None, BlobStates.None, null, ct))
            {
                count++;
                bytes += b.Properties.ContentLength ?? 0;
            }

            Console.WriteLine($"   {container.Name,-28} {count,5} blobs {bytes / 1e6,9:F1} MB");
        }
    }

    private static async Task<int> RunToEndAsync(string file, string[] arguments, string workingDirectory, CancellationToken ct)
    {
        using var p = Process.Start(new ProcessStartInfo(file, arguments) { WorkingDirectory = workingDirectory, UseShellExecute = false })
            ?? throw new InvalidOperationException($"Could not start {file}.");
        await p.WaitForExitAsync(ct);
        return p.ExitCode;
    }
}
