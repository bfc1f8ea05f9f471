using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Catalogue;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Provisioning;
using Linkage.Functions.Tests.FaultInjection;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Keys;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Provisioning;

/// <summary>
/// Provisioning through the running app (decision 0701): two projects, a withdrawal between two refreshes, a project
/// created after it, the IMD join inside a project and not across projects, a second provision that changes nothing.
/// </summary>
public sealed class ProvisioningTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private const string Lsoa = File2Scenario.Dataset;
    private const string Imd = "imd2019_lsoa11";
    private readonly File2Scenario _scenario = new(stack.Stack);

    public void Dispose() => _scenario.Dispose();

    [Fact]
    public async Task A_withdrawal_keeps_what_a_project_holds_adds_nothing_new_and_never_reaches_a_later_project()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        using var http = app.CreateClient();
        string admin = app.Token("Pat ProjectAdmin", Roles.ProjectAdmin);
        string operatorToken = app.Token("Olive Operator", Roles.Operator);

        // Version 1 of the LSOA11 mappings and the IMD table, through the inbox.
        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2000, people: people));
        await _scenario.DeliverAsync(ImdTable(), blobName: $"{Imd}/imd_2019.csv");
        await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Lsoa, 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Imd, 1, CancellationToken.None), seconds: 120, logs: app.Logs);

        string a = "LLC_" + Random.Shared.Next(1000, 4999);
        string b = "LLC_" + Random.Shared.Next(5000, 9999);
        await CreateAsync(http, admin, a);
        var firstRun = await ProvisionAsync(http, admin, operatorToken, a, app);
        Assert.Equal(200, firstRun.GetProperty("output").GetProperty("CohortSize").GetInt32()); // the 200 active people; the 10 withdrawn never
        var aV1 = await LinesAsync(a, Lsoa, 1, app);

        // Five people withdraw; version 2 drops all their rows; project A refreshes.
        var leaving = people.Permitted.Take(5).ToList();
        await _scenario.SeedSnapshotAsync(people.Permitted.Skip(5), people.Withdrawn.Concat(leaving), file1Version: 2);
        await _scenario.DeliverAsync(File2Scenario.File2(rows: 2600, people: people), blobName: $"{Lsoa}/lsoa_2027.csv");
        await Wait.ForAsync(() => catalogue.GetReleasedVersionAsync(Lsoa, 2, CancellationToken.None), seconds: 120, logs: app.Logs);
        await ProvisionAsync(http, admin, operatorToken, a, app);
        var aV2 = await LinesAsync(a, Lsoa, 2, app);

        var keys = app.Services.GetRequiredService<KeyRingProvider>();
        using var aIds = await keys.GetCipherAsync(KeyPurposes.ProjectId(a), CancellationToken.None);
        var leavers = leaving.Select(t => aIds.ReencryptToken(t)).ToHashSet(StringComparer.Ordinal);
        var stayers = people.Permitted.Skip(5).Select(t => aIds.ReencryptToken(t)).ToHashSet(StringComparer.Ordinal);

        // The leavers keep exactly what A held, and get nothing new; the others get version 2's rows.
        var heldBefore = aV1.Where(l => leavers.Contains(Id(l))).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(heldBefore);
        Assert.Equal(heldBefore, aV2.Where(l => leavers.Contains(Id(l))).Order(StringComparer.Ordinal).ToList());
        var curatedV2 = (await catalogue.GetReleasedVersionAsync(Lsoa, 2, CancellationToken.None))!;
        Assert.Equal(curatedV2.ObservationCount, aV2.Count(l => stayers.Contains(Id(l))));
        var files = await GetJsonAsync(http, $"/api/projects/{a}/files", admin);
        var v2File = files.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("datasetId").GetString() == Lsoa && f.GetProperty("version").GetInt32() == 2);
        Assert.Equal(heldBefore.Count, v2File.GetProperty("rowsRetained").GetInt64());
        Assert.Equal($"{Lsoa}_v0002_{curatedV2.VersionDate:yyyyMMdd}.csv", v2File.GetProperty("name").GetString());
        Assert.DoesNotContain("cohortkey", files.ToString(), StringComparison.Ordinal); // names and counts, no tokens
        var audit = await app.Services.GetRequiredService<AuditLog>().ForTargetAsync(ProjectEnding.Target(a), 1000, CancellationToken.None);
        Assert.Equal(2, audit.Count(e => e is { Action: "projects.provision", Outcome: "started", Name: "Pat ProjectAdmin" }));
        Assert.Contains(audit, e => e is { Action: "projects.files", Outcome: "succeeded" });

        // A project created after the withdrawal never receives a leaver.
        await CreateAsync(http, admin, b);
        await ProvisionAsync(http, admin, operatorToken, b, app);
        var bV2 = await LinesAsync(b, Lsoa, 2, app);
        using var bIds = await keys.GetCipherAsync(KeyPurposes.ProjectId(b), CancellationToken.None);
        Assert.DoesNotContain(bV2, l => leaving.Select(t => bIds.ReencryptToken(t)).Contains(Id(l)));
        Assert.Equal(curatedV2.ObservationCount, bV2.Count);

        // Place-based linkage: inside a project every LSOA token joins the IMD table; across projects nothing joins.
        var aImd = (await LinesAsync(a, Imd, 1, app)).Select(Id).ToHashSet(StringComparer.Ordinal);
        var bImd = (await LinesAsync(b, Imd, 1, app)).Select(Id).ToHashSet(StringComparer.Ordinal);
        var aLsoas = aV2.Select(l => l.Split(',')[2]).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(aImd, aLsoas);
        Assert.Empty(aImd.Intersect(bImd));
        Assert.Empty(aV2.Select(Id).Intersect(bV2.Select(Id)));

        // A second provision of the same versions changes nothing.
        var blob = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(a)).GetBlobClient($"{Lsoa}_v0002_{curatedV2.VersionDate:yyyyMMdd}.csv");
        var etag = (await blob.GetPropertiesAsync()).Value.ETag;
        var again = await ProvisionAsync(http, admin, operatorToken, a, app);
        Assert.All(again.GetProperty("output").GetProperty("Datasets").EnumerateArray(), d => Assert.Equal("Unchanged", d.GetProperty("Outcome").GetString()));
        Assert.Equal(etag, (await blob.GetPropertiesAsync()).Value.ETag);

        // Nothing of a TRE id reached a project's container: the cohort stays on the TRE side.
        Assert.DoesNotContain(await stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(a)).ListNamesAsync(), n => n.Contains("cohort", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_provisioning_that_fails_part_way_leaves_no_file_visible_and_a_fixed_source_then_provisions()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(rows: 20_000, people: people));
        var version = (await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None)).Version!;
        string id = "LLC_" + Random.Shared.Next(1000, 9999);
        var store = app.Services.GetRequiredService<ProjectStore>();
        await store.CreateAsync(new ProjectDocument { ProjectId = id, Title = "t", Studies = ["ALSPAC"], Datasets = [Lsoa], EndDate = new DateOnly(2030, 1, 1) }, CancellationToken.None);
        var provisioner = app.Services.GetRequiredService<ProjectProvisioner>();
        await provisioner.FreezeCohortAsync(id, CancellationToken.None);

        // The curated file is damaged late on (a token cut short): the run stops after writing earlier rows as staged blocks.
        var curated = stack.CreateBlobServiceClient().GetBlobContainerClient(ProcessorStorage.Curated).GetBlobClient(version.DataFile!.Split('/', 2)[1]);
        string good = (await curated.DownloadContentAsync()).Value.Content.ToString();
        var lines = good.Split('\n').ToList();
        lines[^10] = lines[^10][5..];
        await curated.UploadAsync(BinaryData.FromString(string.Join('\n', lines)), overwrite: true);
        await Assert.ThrowsAnyAsync<FormatException>(() => provisioner.ProvisionDatasetAsync(id, Lsoa, CancellationToken.None));
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(id));
        Assert.Empty(await container.ListNamesAsync()); // staged blocks only: no file a reader could see
        Assert.Null(await store.GetFileAsync(id, Lsoa, 1, CancellationToken.None));

        // Repaired, the same run writes the file under the same name.
        await curated.UploadAsync(BinaryData.FromString(good), overwrite: true);
        var result = await provisioner.ProvisionDatasetAsync(id, Lsoa, CancellationToken.None);
        Assert.Equal("Provisioned", result.Outcome);
        Assert.Equal([result.File!], await container.ListNamesAsync());

        // A version released on condition that a cell be suppressed which cannot be read as a cell of the spec (here a
        // year that is no year) is not provisioned at all: suppression fails closed, with the reason, never ignored.
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        await catalogue.UpdateVersionAsync(Lsoa, 1, v => v with { Suppressions = [new Linkage.Functions.Catalogue.SuppressedCell("small-cell-1", "origin × record_date:year", "origin=GDPPR, record_date:year=31")] }, CancellationToken.None);
        string other = id[..^1] + (id[^1] == '9' ? '8' : '9');
        await store.CreateAsync(new ProjectDocument { ProjectId = other, Title = "t", Studies = ["ALSPAC"], Datasets = [Lsoa], EndDate = new DateOnly(2030, 1, 1) }, CancellationToken.None);
        await provisioner.FreezeCohortAsync(other, CancellationToken.None);
        var refused = await provisioner.ProvisionDatasetAsync(other, Lsoa, CancellationToken.None);
        Assert.Equal("SuppressionNotApplicable", refused.Outcome);
        Assert.Contains("small-cell-1", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(await stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(other)).ListNamesAsync());
        Assert.Null(await store.GetFileAsync(other, Lsoa, 1, CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_provisionings_of_one_version_write_the_project_file_once_and_all_succeed()
    {
        // Two refreshes, or a refresh and an admin's provisioning, may provision one project at once (the refresh
        // benchmark runs 100): each run used to stage and commit the same blob, rewriting a file already handed over
        // and failing another's block list ("The specified block list is invalid").
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        var commits = new CountingSteps();
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", s => s.AddSingleton<IStepFaults>(commits));
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(rows: 20_000, people: people));
        await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);
        string id = "LLC_" + Random.Shared.Next(1000, 9999);
        var store = app.Services.GetRequiredService<ProjectStore>();
        await store.CreateAsync(new ProjectDocument { ProjectId = id, Title = "t", Studies = ["ALSPAC"], Datasets = [Lsoa], EndDate = new DateOnly(2030, 1, 1) }, CancellationToken.None);
        var provisioner = app.Services.GetRequiredService<ProjectProvisioner>();
        await provisioner.FreezeCohortAsync(id, CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => provisioner.ProvisionDatasetAsync(id, Lsoa, CancellationToken.None))));

        Assert.Single(results, r => r.Outcome == "Provisioned");
        Assert.Equal(5, results.Count(r => r.Outcome == "Unchanged"));
        Assert.Single(results.Select(r => (r.File, r.Rows)).Distinct());
        Assert.Equal(1, commits.Count(Linkage.Functions.Workflows.WorkflowSteps.ProjectFileCommitted));
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(id));
        Assert.Equal([results[0].File!], await container.ListNamesAsync());
        Assert.Single(await store.FilesAsync(id, CancellationToken.None), f => f.DatasetId == Lsoa);
    }

    private sealed class CountingSteps : IStepFaults
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new();

        public ValueTask ReachedAsync(string step, CancellationToken cancellationToken)
        {
            _counts.AddOrUpdate(step, 1, (_, c) => c + 1);
            return ValueTask.CompletedTask;
        }

        public int Count(string step) => _counts.GetValueOrDefault(step);
    }

    [Fact]
    public async Task A_version_approved_with_a_suppressed_cell_is_provisioned_with_that_cells_values_blanked_in_exactly_its_rows()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");

        // Three records in a year no other record has: a small cell of the origin × record_date:year marginal.
        const string Marginal = "origin × record_date:year";
        const string Cell = "origin=GDPPR, record_date:year=2031";
        string rare = string.Concat(people.Permitted.Take(3).Select((t, i) => $"{t},2031-05-0{i + 1},E01000001,GDPPR,2021-01-01\n"));
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(rows: 3000, people: people) + rare);
        var curated = (await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None)).Version!;
        Assert.Equal(ReleaseState.AwaitingReview, curated.Release);

        // Two reviewers approve through the API, suppressing that cell and accepting the rest.
        using var http = app.CreateClient();
        var tokens = Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate(FunctionAppFactory.DevTokenFolder(stack.Stack));
        string rita = tokens.Issue([Roles.Reviewer], "Rita Reviewer", TimeSpan.FromMinutes(10), subject: "sub-rita");
        string raj = tokens.Issue([Roles.Reviewer], "Raj Reviewer", TimeSpan.FromMinutes(10), subject: "sub-raj");
        var flagged = (await GetJsonAsync(http, $"/api/datasets/{Lsoa}/versions/1/risk", rita)).GetProperty("flaggedItems").EnumerateArray().ToList();
        string cellId = flagged.Single(i => i.GetProperty("description").GetString()!.StartsWith($"{Marginal}: {Cell} ", StringComparison.Ordinal)).GetProperty("id").GetString()!;
        var accepted = flagged.Select(i => i.GetProperty("id").GetString()!).Where(i => i != cellId).ToList();
        foreach (var reviewer in new[] { rita, raj })
        {
            var review = await SendAsync(http, HttpMethod.Post, $"/api/datasets/{Lsoa}/versions/1/review", reviewer, new { decision = "approve", notes = "suppress the 2031 cell", acceptedItems = accepted, suppressCells = new[] { cellId } });
            Assert.True(review.StatusCode == HttpStatusCode.OK, await review.Content.ReadAsStringAsync());
        }

        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        var released = (await catalogue.GetReleasedVersionAsync(Lsoa, 1, CancellationToken.None))!;
        Assert.Equal(new Linkage.Functions.Catalogue.SuppressedCell(cellId, Marginal, Cell), Assert.Single(released.Suppressions));

        string id = "LLC_" + Random.Shared.Next(1000, 9999);
        var store = app.Services.GetRequiredService<ProjectStore>();
        await store.CreateAsync(new ProjectDocument { ProjectId = id, Title = "t", Studies = ["ALSPAC"], Datasets = [Lsoa], EndDate = new DateOnly(2030, 1, 1) }, CancellationToken.None);
        var provisioner = app.Services.GetRequiredService<ProjectProvisioner>();
        await provisioner.FreezeCohortAsync(id, CancellationToken.None);
        var result = await provisioner.ProvisionDatasetAsync(id, Lsoa, CancellationToken.None);
        Assert.Equal("Provisioned", result.Outcome);

        // What the file would be without suppression: the same re-key of the same curated bytes, through the writer alone.
        var blobs = stack.CreateBlobServiceClient();
        byte[] curatedBytes = (await blobs.GetBlobContainerClient(ProcessorStorage.Curated).GetBlobClient(released.DataFile!.Split('/', 2)[1]).DownloadContentAsync()).Value.Content.ToArray();
        var keys = app.Services.GetRequiredService<KeyRingProvider>();
        using var treId = await keys.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        using var treGeo = await keys.GetCipherAsync(KeyPurposes.TreGeography, CancellationToken.None);
        using var projectId = await keys.GetCipherAsync(KeyPurposes.ProjectId(id), CancellationToken.None);
        using var projectGeo = await keys.GetCipherAsync(KeyPurposes.ProjectGeography(id), CancellationToken.None);
        var curatedLines = Encoding.UTF8.GetString(curatedBytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var everyone = Linkage.Provisioning.AllowedParticipants.FromTokens(curatedLines.Skip(1).Select(Id).Distinct());
        using var unsuppressed = new MemoryStream();
        var spec = app.Services.GetRequiredService<DatasetSpecs>().TryGet(Lsoa, out var s) ? s : throw new InvalidOperationException();
        await new Linkage.Provisioning.ProjectFileWriter(spec, treId, projectId, treGeo, projectGeo).WriteAsync(new MemoryStream(curatedBytes), unsuppressed, everyone, CancellationToken.None);
        var expected = Encoding.UTF8.GetString(unsuppressed.ToArray()).Split('\n');

        var record = (await store.GetFileAsync(id, Lsoa, 1, CancellationToken.None))!;
        var actual = (await blobs.GetBlobContainerClient(ProjectStorage.Container(id)).GetBlobClient(record.Name).DownloadContentAsync()).Value.Content.ToString().Split('\n');
        Assert.Equal(expected.Length, actual.Length); // no row dropped
        Assert.Equal("cohortkey_e,record_date,lsoa11cd_e,origin,avail_from_dt", actual[0]);
        int blanked = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            var e = expected[i].Split(',');
            if (e.Length == 5 && e[3] == "GDPPR" && e[1].StartsWith("2031-", StringComparison.Ordinal))
            {
                // In the cell: its marginal's columns (origin, record_date) are empty; the keys and the rest are the same bytes.
                Assert.Equal($"{e[0]},,{e[2]},,{e[4]}", actual[i]);
                blanked++;
            }
            else
            {
                Assert.Equal(expected[i], actual[i]);
            }
        }

        Assert.Equal(3, blanked);
        Assert.Equal(curatedLines.Length - 1, record.Rows);

        // The file's record and the files listing name the cell; its 3 rows are a count under 10, so never shown.
        var suppression = Assert.Single(record.Suppressions);
        Assert.Equal(new ProjectFileSuppression(cellId, Marginal, Cell, null), suppression);
        Assert.Null(record.RowsSuppressed);
        string admin = app.Token("Pat ProjectAdmin", Roles.ProjectAdmin);
        var listed = (await GetJsonAsync(http, $"/api/projects/{id}/files", admin)).GetProperty("files").EnumerateArray().Single();
        var listedCell = Assert.Single(listed.GetProperty("suppressedCells").EnumerateArray().ToList());
        Assert.Equal(Cell, listedCell.GetProperty("cell").GetString());
        Assert.Equal(Marginal, listedCell.GetProperty("marginal").GetString());
        Assert.Equal(JsonValueKind.Null, listedCell.GetProperty("rows").ValueKind);
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("rowsSuppressed").ValueKind);
        Assert.DoesNotContain("\"rows\":3", listed.GetRawText(), StringComparison.Ordinal);

        // A second provision of the same version changes nothing.
        var file = blobs.GetBlobContainerClient(ProjectStorage.Container(id)).GetBlobClient(record.Name);
        var etagBefore = (await file.GetPropertiesAsync()).Value.ETag;
        Assert.Equal("Unchanged", (await provisioner.ProvisionDatasetAsync(id, Lsoa, CancellationToken.None)).Outcome);
        Assert.Equal(etagBefore, (await file.GetPropertiesAsync()).Value.ETag);
    }

    /// <summary>The IMD shape this product keeps: an LSOA and its decile, 20 LSOAs per decile (the scenario's LSOAs among them).</summary>
    private static string ImdTable()
    {
        var sb = new StringBuilder("lsoa11cd,imd_decile\n");
        for (int i = 0; i < 200; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"E01{i:D6},{(i % 10) + 1}\n");
        }

        return sb.ToString();
    }

    private static string Id(string line) => line.Split(',')[0];

    private async Task<List<string>> LinesAsync(string project, string dataset, int version, FunctionAppFactory app)
    {
        var record = (await app.Services.GetRequiredService<ProjectStore>().GetFileAsync(project, dataset, version, CancellationToken.None))!;
        string text = (await stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(project)).GetBlobClient(record.Name).DownloadContentAsync()).Value.Content.ToString();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(record.Rows, lines.Count - 1);
        return lines.Skip(1).ToList();
    }

    private static async Task CreateAsync(HttpClient http, string token, string id)
    {
        var response = await SendAsync(http, HttpMethod.Post, "/api/projects", token, new { id, title = "Deprivation and hospital use", studies = new[] { "ALSPAC" }, datasets = new[] { Imd }, endDate = "2030-01-01" });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>POST …/provision (202 + Location), then the workflow's status until it completes; returns the status.</summary>
    private static async Task<JsonElement> ProvisionAsync(HttpClient http, string admin, string operatorToken, string id, FunctionAppFactory app)
    {
        var started = await SendAsync(http, HttpMethod.Post, $"/api/projects/{id}/provision", admin);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        string location = started.Headers.Location!.ToString();
        string done = await Wait.ForAsync(async () =>
        {
            var status = await GetJsonAsync(http, location, operatorToken);
            string? state = status.GetProperty("runtimeStatus").GetString();
            Assert.True(state != "Failed", status.ToString());
            return state == "Completed" ? status.GetRawText() : null;
        }, seconds: 120, logs: app.Logs);
        return JsonDocument.Parse(done).RootElement.Clone();
    }

}
