using System.Net;
using System.Text.Json;
using Linkage.Azure.Identity;
using Linkage.Functions.Api;
using Linkage.Functions.Processor;
using Linkage.Functions.Provisioning;
using Linkage.Functions.Tests.FaultInjection;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Workflows;
using Linkage.Functions.Workflows.Refresh;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Workflows;

/// <summary>
/// The annual refresh through the running app (local host, Durable Task over Azurite, the Cosmos stand-in): on time
/// with the fan-out to projects, a late provider with reminders, a rejected review; started by API, listed, read after
/// its history is purged.
/// </summary>
public sealed class AnnualRefreshTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private const string Lsoa = File2Scenario.Dataset;
    private readonly File2Scenario _scenario = new(stack.Stack);

    public void Dispose() => _scenario.Dispose();

    [Fact]
    public async Task A_curated_delivery_wakes_the_refresh_which_reprovisions_each_provisioned_project_once_and_reports()
    {
        var people = await ResetAsync();
        // A re-check of an hour: only the intake's wake event can end the wait within the test.
        await using var app = App(recheck: "01:00:00", remind: "30.00:00:00");
        var (http, admin, op) = Clients(app);
        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2000, people: people));
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Lsoa, 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        string a = "LLC_" + Random.Shared.Next(1000, 4999);
        string b = "LLC_" + Random.Shared.Next(5000, 9999);
        await CreateProjectAsync(http, admin, a);
        await CreateProjectAsync(http, admin, b);
        await ProvisionAsync(http, admin, op, a, app);

        // Next year's refresh (expected in August, due 30 days later): a delivery now is on time.
        int year = DateTime.UtcNow.Year + 1;
        var started = await SendAsync(http, HttpMethod.Post, "/api/workflows/annual-refresh", op, new { dataset = Lsoa, year, afterVersion = 1 });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        string location = started.Headers.Location!.ToString();
        Assert.Equal($"/api/workflows/refresh-{Lsoa}-{year}", location);
        var again = await SendAsync(http, HttpMethod.Post, "/api/workflows/annual-refresh", op, new { dataset = Lsoa, year, afterVersion = 1 });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // a second start is a no-op
        Assert.Equal(location, again.Headers.Location!.ToString());
        await Wait.ForAsync(async () => Step(await GetJsonAsync(http, location, op)) == "waiting for the new File 2" ? "" : null, seconds: 60, logs: app.Logs);

        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2400, people: people), blobName: $"{Lsoa}/lsoa_2027.csv");
        var status = await CompletedAsync(http, location, op, app);
        var report = status.GetProperty("output");
        Assert.Equal("Completed", report.GetProperty("Outcome").GetString());
        Assert.Equal(2, report.GetProperty("Version").GetInt32());
        Assert.False(report.GetProperty("Late").GetBoolean());
        var projects = report.GetProperty("Projects").EnumerateArray().ToDictionary(p => p.GetProperty("ProjectId").GetString()!);
        Assert.Equal("Refreshed", projects[a].GetProperty("Outcome").GetString());
        Assert.Equal(2, projects[a].GetProperty("Version").GetInt32());
        Assert.Equal(1, projects[a].GetProperty("Attempts").GetInt32());
        Assert.Equal("Skipped", projects[b].GetProperty("Outcome").GetString()); // never provisioned: its first provisioning takes v2
        int eligible = projects.Values.Count(p => p.GetProperty("Outcome").GetString() != "Skipped");
        Assert.Equal($"projects {eligible}/{eligible} refreshed, 0 failed", status.GetProperty("customStatus").GetProperty("Progress").GetString());

        // Project A holds version 2; B holds nothing; exactly one re-provisioning ran for A.
        var store = app.Services.GetRequiredService<ProjectStore>();
        Assert.NotNull(await store.GetFileAsync(a, Lsoa, 2, CancellationToken.None));
        Assert.Empty(await store.FilesAsync(b, CancellationToken.None));
        var durable = app.Services.GetRequiredService<DurableTaskClient>();
        var subs = new List<string>();
        await foreach (var sub in durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"refresh-{Lsoa}-{year}-{a}-" }))
        {
            subs.Add(sub.InstanceId);
        }

        Assert.Equal([$"refresh-{Lsoa}-{year}-{a}-a1"], subs);

        // Listed for operators, with the fields the API promises.
        var list = await GetJsonAsync(http, "/api/workflows?name=annual-refresh", op);
        var item = list.GetProperty("workflows").EnumerateArray().Single(w => w.GetProperty("instanceId").GetString() == location.Split('/')[^1]);
        Assert.Equal("Completed", item.GetProperty("runtimeStatus").GetString());
        foreach (var field in new[] { "name", "createdAt", "lastUpdatedAt", "customStatus" })
        {
            Assert.True(item.TryGetProperty(field, out _), field);
        }

        // The history goes; the report stays.
        await durable.PurgeInstanceAsync(location.Split('/')[^1]);
        var purged = await GetJsonAsync(http, location, op);
        Assert.True(purged.GetProperty("historyPurged").GetBoolean());
        Assert.Equal(2, purged.GetProperty("output").GetProperty("Version").GetInt32());
        var restart = await SendAsync(http, HttpMethod.Post, "/api/workflows/annual-refresh", op, new { dataset = Lsoa, year });
        Assert.Equal(HttpStatusCode.OK, restart.StatusCode); // it ran: not started again

        var audit = await app.Services.GetRequiredService<AuditLog>().ForTargetAsync("workflows", 1000, CancellationToken.None);
        Assert.Contains(audit, e => e is { Action: "workflows.start", Outcome: "started", Name: "Olive Operator" });
        Assert.Contains(audit, e => e is { Action: "workflows.start", Outcome: "exists" });
        Assert.Contains(audit, e => e is { Action: "workflows.list", Outcome: "succeeded" });
    }

    [Fact]
    public async Task A_late_provider_is_reminded_and_reported_late_and_the_refresh_still_completes()
    {
        var people = await ResetAsync();
        await using var app = App(recheck: "00:00:02", remind: "00:00:01");
        var (http, _, op) = Clients(app);
        // Last year's LSOA11 refresh opened in August (the spec) and was due 30 days later: it is late at once.
        int year = DateTime.UtcNow.Year - 1;
        var started = await SendAsync(http, HttpMethod.Post, "/api/workflows/annual-refresh", op, new { dataset = Lsoa, year, afterVersion = 0 });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        string location = started.Headers.Location!.ToString();
        var reminders = _scenario.Blobs.GetBlobContainerClient(ProcessorStorage.ProviderReports);
        await Wait.ForAsync(async () => (await reminders.ListNamesAsync()).Count(n => n.StartsWith($"{Lsoa}/reminders/refresh-{year}-", StringComparison.Ordinal)) >= 2 ? "" : null, seconds: 60, logs: app.Logs);
        // (A new episode starts without a custom status until it sets one: poll.)
        await Wait.ForAsync(async () => (await GetJsonAsync(http, location, op)).GetProperty("customStatus") is { ValueKind: JsonValueKind.Object } c && c.GetProperty("Late").GetBoolean() ? "" : null, seconds: 30, logs: app.Logs);
        string note = (await reminders.GetBlobClient(RefreshActivities.ReminderName(Lsoa, year, 1)).DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains($"the {year} File 2 has not arrived, and it was due by {year}-08-31", note);

        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2000, people: people));
        var report = (await CompletedAsync(http, location, op, app)).GetProperty("output");
        Assert.Equal("Completed", report.GetProperty("Outcome").GetString());
        Assert.True(report.GetProperty("Late").GetBoolean());
        Assert.True(report.GetProperty("RemindersSent").GetInt32() >= 2);
        Assert.Equal(1, report.GetProperty("Version").GetInt32());
    }

    [Fact]
    public async Task A_rejected_review_ends_the_refresh_with_the_reviewers_reason_and_provisions_nothing()
    {
        var people = await ResetAsync();
        await using var app = App(recheck: "00:00:02", remind: "30.00:00:00");
        var (http, admin, op) = Clients(app);
        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2000, people: people));
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Lsoa, 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        string a = "LLC_" + Random.Shared.Next(1000, 9999);
        await CreateProjectAsync(http, admin, a);
        await ProvisionAsync(http, admin, op, a, app);

        var started = await SendAsync(http, HttpMethod.Post, "/api/workflows/annual-refresh", op, new { dataset = Lsoa, year = DateTime.UtcNow.Year - 2, afterVersion = 1 });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        string location = started.Headers.Location!.ToString();
        // Version 2 has 400 LSOAs over 2,400 rows: small cells, so it awaits review.
        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2400, people: people, lsoaCodes: 400), blobName: $"{Lsoa}/lsoa_2027.csv");
        await Wait.ForAsync(async () => Step(await GetJsonAsync(http, location, op)) == "awaiting disclosure review" ? "" : null, seconds: 120, logs: app.Logs);

        string reviewer = DevelopmentTokens.GetOrCreate(FunctionAppFactory.DevTokenFolder(stack.Stack)).Issue([Roles.Reviewer], "Rita Reviewer", TimeSpan.FromMinutes(10), subject: "sub-rita");
        var rejected = await SendAsync(http, HttpMethod.Post, $"/api/datasets/{Lsoa}/versions/2/review", reviewer, new { decision = "reject", notes = "Areas with fewer than ten people" });
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var report = (await CompletedAsync(http, location, op, app)).GetProperty("output");
        Assert.Equal("ReviewRejected", report.GetProperty("Outcome").GetString());
        Assert.Contains("Areas with fewer than ten people", report.GetProperty("Reason").GetString());
        Assert.Empty(report.GetProperty("Projects").EnumerateArray());
        Assert.Null(await app.Services.GetRequiredService<ProjectStore>().GetFileAsync(a, Lsoa, 2, CancellationToken.None));
    }

    private async Task<(List<string> Permitted, List<string> Withdrawn, List<string> Unknown)> ResetAsync()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        return people;
    }

    private FunctionAppFactory App(string recheck, string remind) => new(stack.Stack, "Local", settings: new Dictionary<string, string?>
    {
        ["Workflows:Refresh:RecheckEvery"] = recheck,
        ["Workflows:Refresh:RemindEvery"] = remind,
        ["Workflows:Refresh:ReviewRecheckEvery"] = "01:00:00",
        ["Workflows:Refresh:ProjectRetryDelay"] = "00:00:01",
    });

    private static (HttpClient Http, string Admin, string Operator) Clients(FunctionAppFactory app)
    {
        _ = app.Services;
        return (app.CreateClient(), app.Token("Pat ProjectAdmin", Roles.ProjectAdmin), app.Token("Olive Operator", Roles.Operator));
    }

    private static string? Step(JsonElement status) =>
        status.TryGetProperty("customStatus", out var c) && c.ValueKind == JsonValueKind.Object && c.TryGetProperty("Step", out var s) ? s.GetString() : null;

    private static async Task<JsonElement> CompletedAsync(HttpClient http, string location, string op, FunctionAppFactory app)
    {
        string done = await Wait.ForAsync(async () =>
        {
            var status = await GetJsonAsync(http, location, op);
            string? state = status.GetProperty("runtimeStatus").GetString();
            Assert.True(state is not ("Failed" or "Terminated"), status.ToString());
            return state == "Completed" ? status.GetRawText() : null;
        }, seconds: 180, logs: app.Logs);
        return JsonDocument.Parse(done).RootElement.Clone();
    }

    private static async Task CreateProjectAsync(HttpClient http, string token, string id)
    {
        var response = await SendAsync(http, HttpMethod.Post, "/api/projects", token, new { id, title = "Hospital use by area", studies = new[] { "ALSPAC" }, datasets = new[] { Lsoa }, endDate = "2030-01-01" });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task ProvisionAsync(HttpClient http, string admin, string op, string id, FunctionAppFactory app)
    {
        var started = await SendAsync(http, HttpMethod.Post, $"/api/projects/{id}/provision", admin);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        await CompletedAsync(http, started.Headers.Location!.ToString(), op, app);
    }
}
