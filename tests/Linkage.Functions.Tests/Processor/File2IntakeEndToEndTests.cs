using System.Net.Http.Json;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Tests.Ttp;
using Linkage.Functions.Ttp;
using Linkage.Keys;
using Linkage.Synth;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Processor;

/// <summary>
/// The whole split-file flow through the running app: File 1s through the TTP, an NHS England-style File 2 built from the
/// NHS Output, and its curation into a versioned TRE dataset — with withdrawn participants' records injected to prove
/// they never appear, and every LSOA and identifier searched for on the TRE side.
/// </summary>
public sealed class File2IntakeEndToEndTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private const string Dataset = "nhse_lsoa11_dataset_mapping";
    private readonly string _dir = Directory.CreateTempSubdirectory("linkage-file2-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_file2_becomes_a_curated_version_without_withdrawn_people_clear_lsoas_or_duplicates()
    {
        var options = new SynthOptions { Seed = 5, Participants = 150, File2Rows = 10, Quarters = 2, InvalidNhsShare = 0 };
        string file1Dir = Path.Combine(_dir, "first");
        new SynthGenerator(options).Generate(file1Dir, null, CancellationToken.None);
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();

        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(file1Dir, "optout", "national_opt_out.csv"));
        foreach (int quarter in new[] { 1, 2 })
        {
            foreach (var study in options.Studies)
            {
                string file = Directory.GetFiles(Path.Combine(file1Dir, "file1", study), $"{study}_FILE1_v{quarter}_*.csv").Single();
                await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{study}/{Path.GetFileName(file)}", file);
            }

            foreach (var study in options.Studies)
            {
                await Wait.ForAsync(() => versions.GetAsync(study, File1VersionStore.IdFor(study, quarter), CancellationToken.None), logs: app.Logs);
            }
        }

        // The processor uses a version's snapshot once the study's manifest names it, which follows the version record.
        var snapshots = app.Services.GetRequiredService<PermissionSnapshotSource>();
        foreach (var study in options.Studies)
        {
            await Wait.ForAsync(async () => await snapshots.GetManifestAsync(study, CancellationToken.None) is { Version: 2 } m ? m : null, logs: app.Logs);
        }

        // NHS England sends back records for the people in the NHS Outputs (built here by synth from those files).
        string nhsOutput = Path.Combine(_dir, "nhs_output.csv");
        var withdrawnTtpTokens = new List<string>();
        await using (var w = new StreamWriter(nhsOutput))
        {
            bool header = true;
            foreach (var study in options.Studies)
            {
                var record = (await versions.GetAsync(study, File1VersionStore.IdFor(study, 2), CancellationToken.None))!;
                foreach (var line in (await blobs.DownloadTextAsync(record.Outputs["nhsOutput"])).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(header ? 0 : 1))
                {
                    await w.WriteLineAsync(line);
                }

                header = false;
                var idMap = (await blobs.DownloadTextAsync(record.Outputs["idMapping"])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                int status = Array.IndexOf(idMap[0].Split(','), "ukllc_status");
                withdrawnTtpTokens.AddRange(idMap.Skip(1).Select(l => l.Split(',')).Where(f => f[status] == "0").Select(f => f[0]));
            }
        }

        Assert.NotEmpty(withdrawnTtpTokens);
        string file2Dir = Path.Combine(_dir, "second");
        new SynthGenerator(options with { File2Rows = 6000, NhsOutputPath = nhsOutput }).Generate(file2Dir, null, CancellationToken.None);
        string file2 = Directory.GetFiles(Path.Combine(file2Dir, "file2", Dataset)).Single();

        // Records about withdrawn participants (as if NHS England sent them anyway) must never reach the TRE.
        var lines = File.ReadAllLines(file2).ToList();
        string sample = lines[1];
        string rest = sample[sample.IndexOf(',', StringComparison.Ordinal)..];
        lines.AddRange(withdrawnTtpTokens.Select(t => t + rest));
        await File.WriteAllLinesAsync(file2, lines);
        var inputRows = lines.Skip(1).ToList();
        int exactDuplicates = inputRows.Count - inputRows.Distinct(StringComparer.Ordinal).Count();
        Assert.True(exactDuplicates > 0, "synth puts exact duplicates in File 2s");
        var lsoas = inputRows.Select(l => l.Split(',')[2]).Where(s => s.Length > 0).ToHashSet();

        await blobs.UploadFileAsync(ProcessorStorage.File2Inbox, $"{Dataset}/{Path.GetFileName(file2)}", file2);
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        var version = await Wait.ForAsync(() => catalogue.GetVersionAsync(Dataset, 1, CancellationToken.None), seconds: 90, logs: app.Logs);
        Assert.Single(await catalogue.VersionsAsync(Dataset, CancellationToken.None));

        // Synthetic data of 150 people has small cells: the version waits for two reviewers before it is current.
        Assert.Equal(Linkage.Functions.Catalogue.ReleaseState.AwaitingReview, version.EffectiveRelease);
        Assert.Null((await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);
        await ReviewAsync(app, ["Rita Reviewer", "Raj Reviewer"]);
        Assert.Equal(1, (await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);

        // The version is catalogued with its counts, and the counts reconcile.
        Assert.Equal(DatasetVersionState.Curated, version.State);
        Assert.Equal(1, version.Version);
        Assert.Equal(inputRows.Count, version.RowsIn);
        Assert.Equal(version.RowsIn, version.ObservationCount + version.RowsRejected + version.RowsDropped.Values.Sum());
        Assert.True(version.RowsDropped["Withdrawn"] >= withdrawnTtpTokens.Count, $"{withdrawnTtpTokens.Count} withdrawn rows added; dropped: {string.Join(", ", version.RowsDropped.Select(d => $"{d.Key} {d.Value}"))}");
        // Copies of a row dropped for another reason (no small-area permission, say) are dropped with it, not as duplicates.
        Assert.InRange(version.RowsDropped["Duplicate"], 1, exactDuplicates);
        Assert.Equal(5, version.VariableCount);
        Assert.StartsWith("processor-id/v", version.IdKeyVersion, StringComparison.Ordinal);

        // The curated file: TRE ids (never a withdrawn person's), encrypted LSOAs (never one in clear).
        string curated = await blobs.DownloadTextAsync(version.DataFile!);
        var curatedLines = curated.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("cohortkey_e,record_date,lsoa11cd_e,origin,avail_from_dt", curatedLines[0]);
        Assert.Equal(version.ObservationCount, curatedLines.Length - 1);
        Assert.Equal(curatedLines.Length, curatedLines.Distinct(StringComparer.Ordinal).Count()); // no duplicates are left
        var ring = await app.Services.GetRequiredService<KeyRingProvider>().GetAsync(CancellationToken.None);
        using var processorCipher = await ring.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        var curatedIds = curatedLines.Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        Assert.All(withdrawnTtpTokens, t => Assert.DoesNotContain(processorCipher.ReencryptToken(t), curatedIds));
        Assert.All(withdrawnTtpTokens, t => Assert.DoesNotContain(t, curated, StringComparison.Ordinal));
        await AssertNowhereOnTreSide(blobs, lsoas, "an LSOA code in clear");

        // No File 1 identifier reached the TRE side either.
        var identifiers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(Path.Combine(file1Dir, "file1"), "*.csv", SearchOption.AllDirectories))
        {
            identifiers.UnionWith(File1Facts.Read(f).Identifiers());
        }

        await AssertNowhereOnTreSide(blobs, identifiers, "a File 1 identifier");

        // A redelivery of the same blob version yields the same version, never a second one.
        var intake = app.Services.GetRequiredService<File2IntakeService>();
        var archived = blobs.GetBlobContainerClient(ProcessorStorage.File2Archive).GetBlobClient($"{Dataset}/{Path.GetFileName(file2)}");
        Assert.True(await archived.ExistsAsync());
        var again = await intake.ProcessAsync(blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox).GetBlobClient($"{Dataset}/{Path.GetFileName(file2)}"), new global::Azure.ETag(version.SourceETag), CancellationToken.None);
        Assert.Equal("AlreadyCurated", again.Outcome);
        Assert.Equal(1, again.Version!.Version);
        Assert.Single(await catalogue.VersionsAsync(Dataset, CancellationToken.None));

        // The disclosure-risk report is stored with the version.
        string risk = await blobs.DownloadTextAsync(version.RiskReport!);
        Assert.Contains("\"threshold\": 10", risk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_file2_is_quarantined_with_a_report_and_no_version_exists_for_readers()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        string content = "cohortkey_e,record_date,lsoa11cd,origin\nAAAAAAAAAAAAAAAAAAAAAA,2020-01-01,E01000001,HES APC\n";
        await blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox).CreateIfNotExistsAsync();
        await blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox).GetBlobClient("nhse_hes_apc/missing_columns.csv").UploadAsync(BinaryData.FromString(content));
        await blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox).GetBlobClient("no_such_dataset/x.csv").UploadAsync(BinaryData.FromString(content));

        var quarantine = blobs.GetBlobContainerClient(ProcessorStorage.File2Quarantine);
        string report = await Wait.ForAsync(async () =>
            await quarantine.GetBlobClient("nhse_hes_apc/missing_columns.csv.report.json").ExistsAsync()
                ? (await quarantine.GetBlobClient("nhse_hes_apc/missing_columns.csv.report.json").DownloadContentAsync()).Value.Content.ToString()
                : null, logs: app.Logs);
        Assert.Contains("HeaderMismatch", report, StringComparison.Ordinal);
        Assert.Contains("epikey", report, StringComparison.Ordinal);
        Assert.Equal(content, (await quarantine.GetBlobClient("nhse_hes_apc/missing_columns.csv").DownloadContentAsync()).Value.Content.ToString());

        string unknown = await Wait.ForAsync(async () =>
            await quarantine.GetBlobClient("no_such_dataset/x.csv.report.json").ExistsAsync()
                ? (await quarantine.GetBlobClient("no_such_dataset/x.csv.report.json").DownloadContentAsync()).Value.Content.ToString()
                : null, logs: app.Logs);
        Assert.Contains("No dataset spec has id 'no_such_dataset'", unknown, StringComparison.Ordinal);
        // Its number was reserved before curation (decision 0603) and stays unused: no version exists for readers.
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        Assert.Empty(await catalogue.VersionsAsync("nhse_hes_apc", CancellationToken.None));
        Assert.Null((await catalogue.GetDatasetAsync("nhse_hes_apc", CancellationToken.None))?.CurrentVersion);
        Assert.All(await catalogue.ReservationsAsync("nhse_hes_apc", CancellationToken.None), r => Assert.Equal(DatasetVersionState.Rejected, r.State));
    }

    /// <summary>Approves version 1 through the review endpoint, accepting every flagged item, as each named reviewer.</summary>
    private static async Task ReviewAsync(FunctionAppFactory app, string[] reviewers)
    {
        using var http = app.CreateClient();
        foreach (string reviewer in reviewers)
        {
            using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/datasets/{Dataset}/versions/1/risk");
            read.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.Token(reviewer, Linkage.Functions.Api.Roles.Reviewer));
            var risk = await (await http.SendAsync(read)).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            var items = risk.GetProperty("flaggedItems").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
            using var review = new HttpRequestMessage(HttpMethod.Post, $"/api/datasets/{Dataset}/versions/1/review") { Content = JsonContent.Create(new { decision = "approve", acceptedItems = items }) };
            review.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.Token(reviewer, Linkage.Functions.Api.Roles.Reviewer));
            var answer = await http.SendAsync(review);
            Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        }
    }

    private static async Task AssertNowhereOnTreSide(BlobServiceClient blobs, IReadOnlyCollection<string> values, string what)
    {
        Assert.NotEmpty(values);
        var ttp = TtpStorage.TtpContainers.ToHashSet();
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            // The TTP zone and the File 2 inbox/archive/quarantine (which hold NHS England's input as delivered) are not TRE side.
            if (ttp.Contains(container.Name) || container.Name.StartsWith("processor-file2-", StringComparison.Ordinal) || container.Name == "tre-reference")
            {
                continue;
            }

            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var b in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, CancellationToken.None))
            {
                string text = Encoding.Latin1.GetString((await client.GetBlobClient(b.Name).DownloadContentAsync()).Value.Content.ToArray());
                foreach (var v in values)
                {
                    if (text.Contains(v, StringComparison.Ordinal))
                    {
                        Assert.Fail($"Found {what} in {container.Name}/{b.Name}.");
                    }
                }
            }
        }
    }
}
