using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.FaultInjection;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Catalogue;

/// <summary>
/// The catalogue API on synthetic data: the LSOA11 dataset's answers have the shape of seed 000's page (descriptor table,
/// variables, version history), its computed facts match the rows, DOIs come only from configuration, and every read
/// is authorised and audited.
/// </summary>
public sealed class CatalogueApiTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private const string Dataset = File2Scenario.Dataset;
    private const string Doi1 = "10.5555/linkage-test-lsoa11-01"; // Crossref's test prefix: not a real dataset's DOI
    private readonly File2Scenario _scenario = new(stack.Stack);

    public void Dispose() => _scenario.Dispose();

    [Fact]
    public async Task The_lsoa11_entry_reproduces_seed_000s_tables_with_computed_facts_and_configured_dois_only()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?>
        {
            [$"Catalogue:Datasets:{Dataset}:VersionDois:1"] = Doi1,
        });
        var intake = app.Services.GetRequiredService<File2IntakeService>();
        string first = File2Scenario.File2(rows: 2000, people: people);
        string second = File2Scenario.File2(rows: 2400, people: people);
        var (blob, etag) = await _scenario.DeliverAsync(first);
        var v1 = (await intake.ProcessAsync(blob, etag, CancellationToken.None)).Version!;
        (blob, etag) = await _scenario.DeliverAsync(second, blobName: $"{Dataset}/lsoa_2027.csv");
        var v2 = (await intake.ProcessAsync(blob, etag, CancellationToken.None)).Version!;
        Assert.Equal((1, 2), (v1.Version, v2.Version));

        using var http = app.CreateClient();
        string reader = app.Token("Rhea Researcher", Roles.Reader);

        // The list: every shipped dataset, the LSOA11 one with its current version.
        var list = await GetJsonAsync(http, "/api/datasets", reader);
        var ids = list.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("id").GetString()).ToList();
        Assert.Equal(["imd2019_lsoa11", "london_sde_asc_cld", "london_sde_cla", "nhse_hes_apc", Dataset], ids);
        Assert.Equal(2, list.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("id").GetString() == Dataset).GetProperty("currentVersion").GetInt32());

        // The descriptor table of seed 000.
        var entry = await GetJsonAsync(http, $"/api/datasets/{Dataset}", reader);
        Assert.Equal("UKLLC_nhse_lsoa11_dataset_mapping", entry.GetProperty("nameInTre").GetString());
        Assert.Equal("UK LLC Managed", entry.GetProperty("series").GetString());
        Assert.Equal("UK Longitudinal Linkage Collaboration, NHS England", entry.GetProperty("owner").GetString());
        Assert.Equal("None", entry.GetProperty("specificRestrictions").GetString());
        Assert.Equal(5, entry.GetProperty("numberOfVariables").GetInt32());
        Assert.Equal(v2.ObservationCount, entry.GetProperty("numberOfObservations").GetInt64());
        Assert.NotEmpty(entry.GetProperty("keywords").EnumerateArray());
        Assert.False(string.IsNullOrWhiteSpace(entry.GetProperty("legalBasis").GetString()));
        Assert.Equal(["cohortkey_e", "record_date", "lsoa11cd_e", "origin", "avail_from_dt"], entry.GetProperty("variables").EnumerateArray().Select(v => v.GetProperty("name").GetString()));

        // Computed, not typed: distinct people and the span of record_date, over the rows kept (not the dropped or rejected ones).
        var (participants, from, to) = Expected(second, people);
        Assert.Equal(participants, entry.GetProperty("participantCount").GetInt64());
        Assert.Equal(from, entry.GetProperty("temporalCoverage").GetProperty("from").GetString());
        Assert.Equal(to, entry.GetProperty("temporalCoverage").GetProperty("to").GetString());

        // The current version (2) has no DOI configured, and none is invented: the citation says so.
        var citation = entry.GetProperty("citation");
        Assert.Equal(JsonValueKind.Null, citation.GetProperty("doi").ValueKind);
        Assert.Equal(
            $"UK Longitudinal Linkage Collaboration. ({v2.VersionDate.Year}). UK LLC Managed: NHSE LSOA11 Mappings Dataset. UK Longitudinal Linkage Collaboration (UK LLC). No DOI has been registered for this dataset.",
            citation.GetProperty("text").GetString());

        // The version history of seed 000: version, date, variables, observations, DOI, change log.
        var history = (await GetJsonAsync(http, $"/api/datasets/{Dataset}/versions", reader)).GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([1, 2], history.Select(h => h.GetProperty("version").GetInt32()));
        Assert.Equal(Doi1, history[0].GetProperty("doi").GetString());
        Assert.Equal(JsonValueKind.Null, history[1].GetProperty("doi").ValueKind);
        Assert.All(history, h => Assert.Equal(5, h.GetProperty("variables").GetInt32()));
        Assert.Equal(v1.ObservationCount, history[0].GetProperty("observations").GetInt64());
        var change = history[1].GetProperty("changeLog");
        Assert.Equal(1, change.GetProperty("previousVersion").GetInt32());
        Assert.Equal(v2.ObservationCount - v1.ObservationCount, change.GetProperty("observationsChange").GetInt64());
        Assert.Equal(8, v2.RowsDropped["Withdrawn"] - v1.RowsDropped["Withdrawn"]);
        Assert.False(change.GetProperty("rowsDroppedChange").TryGetProperty("Withdrawn", out _), "8 more withdrawn rows: fewer than 10, so not published");
        Assert.Contains("no variable changes", change.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, history[0].GetProperty("changeLog").GetProperty("previousVersion").ValueKind);

        // Counts from 1 to 9 do not leave the TRE (decision 0507): the 5 rejected rows are not published, the 39 withdrawn rows are.
        Assert.Equal(5, v1.RowsRejected);
        Assert.Equal(JsonValueKind.Null, history[0].GetProperty("changeLog").GetProperty("rowsRejected").ValueKind);
        Assert.DoesNotContain("rejected", history[0].GetProperty("changeLog").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(v1.RowsDropped["Withdrawn"], history[0].GetProperty("changeLog").GetProperty("rowsDropped").GetProperty("Withdrawn").GetInt64());
        Assert.Equal(10, history[0].GetProperty("changeLog").GetProperty("suppressedBelow").GetInt32());

        // Variables of a version: names, descriptions, types, rules, value labels.
        var variables = (await GetJsonAsync(http, $"/api/datasets/{Dataset}/versions/1/variables", reader)).GetProperty("variables").EnumerateArray().ToList();
        var origin = variables.Single(v => v.GetProperty("name").GetString() == "origin");
        Assert.Equal("keep", origin.GetProperty("rule").GetString());
        Assert.Equal("Hospital Episode Statistics Admitted Patient Care", origin.GetProperty("valueLabels").GetProperty("HES APC").GetString());
        Assert.Equal("encrypt-geography", variables.Single(v => v.GetProperty("name").GetString() == "lsoa11cd_e").GetProperty("rule").GetString());

        // A dataset without versions says no DOI is registered; the shipped specs invent none.
        var hes = await GetJsonAsync(http, "/api/datasets/nhse_hes_apc", reader);
        Assert.Equal("not configured", hes.GetProperty("citation").GetProperty("doiStatus").GetString());
        Assert.Equal(JsonValueKind.Null, hes.GetProperty("currentVersion").ValueKind);
        foreach (var spec in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "datasets"), "*.json"))
        {
            Assert.DoesNotContain("10.71760", await File.ReadAllTextAsync(spec), StringComparison.Ordinal);
        }

        // Not found, 401, 403; reads and denials are audited.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, "/api/datasets/no_such_dataset", reader)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, $"/api/datasets/{Dataset}/versions/9/variables", reader)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, HttpMethod.Get, $"/api/datasets/{Dataset}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Get, $"/api/datasets/{Dataset}", app.Token("Pat ProjectAdmin", Roles.ProjectAdmin))).StatusCode);
        var audit = await app.Services.GetRequiredService<AuditLog>().ForTargetAsync($"dataset/{Dataset}", 100, CancellationToken.None);
        Assert.Contains(audit, e => e is { Action: "catalogue.read", Outcome: "succeeded", Name: "Rhea Researcher" });
        Assert.Contains(audit, e => e is { Action: "catalogue.versions", Outcome: "succeeded" });
        Assert.Contains(audit, e => e is { Action: "catalogue.variables", Outcome: "succeeded" } && e.Details["version"] == "1");
        Assert.Contains(audit, e => e is { Action: "catalogue.read", Outcome: "denied", Status: 403, Name: "Pat ProjectAdmin" });
        var listed = await app.Services.GetRequiredService<AuditLog>().ForTargetAsync("catalogue", 1000, CancellationToken.None);
        Assert.Contains(listed, e => e is { Action: "catalogue.list", Outcome: "succeeded", Name: "Rhea Researcher" });
    }

    /// <summary>People and months of the rows curation keeps: permitted people, valid dates (the scenario's invalid date is 30 February).</summary>
    private static (long Participants, string From, string To) Expected(string content, (List<string> Permitted, List<string> Withdrawn, List<string> Unknown) people)
    {
        var permitted = people.Permitted.ToHashSet(StringComparer.Ordinal);
        var kept = content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(','))
            .Where(f => permitted.Contains(f[0]) && DateOnly.TryParseExact(f[1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            .ToList();
        var months = kept.Select(f => f[1][..7]).Order(StringComparer.Ordinal).ToList();
        return (kept.Select(f => f[0]).Distinct().Count(), months[0], months[^1]);
    }

}
