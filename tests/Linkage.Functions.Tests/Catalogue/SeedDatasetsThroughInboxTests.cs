using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Api;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Synth;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Catalogue;

/// <summary>
/// The seeds' other datasets through the running app's File 2 inbox, end to end: the London SDE adult social care and
/// children looked after files (keyed by the SDE patient key, no UK LLC permission applies) and the IMD reference table
/// (no person at all). No permission snapshot exists on this stack, so nothing of theirs may depend on one.
/// </summary>
public sealed class SeedDatasetsThroughInboxTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("linkage-seeds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task London_sde_and_imd_files_are_curated_through_the_inbox_with_keys_and_areas_encrypted()
    {
        var options = new SynthOptions { Seed = 13, Participants = 40, File2Rows = 10, Quarters = 1, LondonSdeRows = 800 };
        new SynthGenerator(options).Generate(_dir, null, CancellationToken.None);
        string asc = Directory.GetFiles(Path.Combine(_dir, "file2", "london_sde_asc_cld")).Single();
        string cla = Directory.GetFiles(Path.Combine(_dir, "file2", "london_sde_cla")).Single();
        string imd = Path.Combine(_dir, "reference", "imd2019_lsoa11.csv");

        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        foreach (var (dataset, file) in new[] { ("london_sde_asc_cld", asc), ("london_sde_cla", cla), ("imd2019_lsoa11", imd) })
        {
            await blobs.UploadFileAsync(ProcessorStorage.File2Inbox, $"{dataset}/{Path.GetFileName(file)}", file);
        }

        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        var ascVersion = await Wait.ForAsync(() => catalogue.GetVersionAsync("london_sde_asc_cld", 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        var claVersion = await Wait.ForAsync(() => catalogue.GetVersionAsync("london_sde_cla", 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        var imdVersion = await Wait.ForAsync(() => catalogue.GetVersionAsync("imd2019_lsoa11", 1, CancellationToken.None), seconds: 120, logs: app.Logs);

        // Every valid row is kept: no UK LLC permission applies, and no snapshot was needed.
        foreach (var (version, file) in new[] { (ascVersion, asc), (claVersion, cla), (imdVersion, imd) })
        {
            var rows = File.ReadAllLines(file).Skip(1).Where(l => l.Length > 0).ToList();
            Assert.Equal(rows.Count, version.RowsIn);
            Assert.Equal(0, version.RowsDropped.Where(d => d.Key != "Duplicate").Sum(d => d.Value));
            Assert.Equal(rows.Count - rows.Distinct(StringComparer.Ordinal).Count(), version.RowsDropped["Duplicate"]);
            Assert.Empty(version.PermissionSnapshots);
        }

        // People are counted by their SDE key; the reference table has none.
        Assert.Equal(KeysOf(asc).Count, ascVersion.ParticipantCount);
        Assert.Equal(KeysOf(cla).Count, claVersion.ParticipantCount);
        Assert.Null(imdVersion.ParticipantCount);
        Assert.NotNull(ascVersion.TemporalCoverage);

        // No SDE patient key, local authority or LSOA code in clear anywhere on the TRE side.
        var clear = KeysOf(asc).Concat(KeysOf(cla)).Concat(File.ReadAllLines(imd).Skip(1).Select(l => l.Split(',')[0])).ToHashSet(StringComparer.Ordinal);
        var authorities = File.ReadAllLines(cla).Skip(1).Select(l => l.Split(',')[2]).Distinct().ToList();
        Assert.NotEmpty(authorities);
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            if (!container.Name.StartsWith("tre-", StringComparison.Ordinal))
            {
                continue;
            }

            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var blob in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, CancellationToken.None))
            {
                string text = (await client.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
                var fields = text.Split(['\n', ',', '"', ':', ' '], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                Assert.False(fields.Overlaps(clear), $"{container.Name}/{blob.Name} holds an SDE patient key or LSOA in clear");
                if (blob.Name.EndsWith(".csv", StringComparison.Ordinal))
                {
                    // Data files only: the spec's own description names the boroughs it covers, which is not data.
                    Assert.DoesNotContain(authorities, a => text.Contains(a, StringComparison.Ordinal));
                }
            }
        }

        // The catalogue carries the seeds' published facts beside the computed ones.
        using var http = app.CreateClient();
        var entry = await GetJsonAsync(http, "/api/datasets/london_sde_asc_cld", app.Token("Rhea Researcher", Roles.Reader));
        var published = entry.GetProperty("published");
        Assert.Equal("Quarterly", published.GetProperty("publishingFrequency").GetString());
        var facts = published.GetProperty("observations").EnumerateArray().Select(o => (o.GetProperty("measure").GetString(), o.GetProperty("count").GetInt64())).ToList();
        Assert.Contains(("Events", 145853L), facts);
        Assert.Contains(("Persons", 23366L), facts);
        Assert.Equal("participant", entry.GetProperty("kind").GetString());
        Assert.Equal("reference", (await GetJsonAsync(http, "/api/datasets/imd2019_lsoa11", app.Token("Rhea Researcher", Roles.Reader))).GetProperty("kind").GetString());
    }

    private static HashSet<string> KeysOf(string file) =>
        File.ReadAllLines(file).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[0]).ToHashSet(StringComparer.Ordinal);

}
