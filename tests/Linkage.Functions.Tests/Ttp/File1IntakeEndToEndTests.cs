using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Keys;
using Linkage.Synth;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>
/// File 1 intake through the running app (local trigger runtime, Azurite, Cosmos stand-in): synthetic File 1s for three
/// studies over two quarters, the national opt-out list, and then the proof that no identifier left the TTP zone.
/// </summary>
public sealed class File1IntakeEndToEndTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-synth-").FullName;

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    [Fact]
    public async Task Two_quarters_flow_through_and_no_identifier_leaves_the_ttp_zone()
    {
        var options = new SynthOptions { Seed = 7, Participants = 150, File2Rows = 10, Quarters = 2, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services; // starts the host and its listeners
        var blobs = stack.CreateBlobServiceClient();
        var cosmos = app.Services.GetRequiredService<Linkage.Azure.Cosmos.CosmosDatabase>();
        var versions = app.Services.GetRequiredService<File1VersionStore>();

        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(_synthDir, "optout", "national_opt_out.csv"));
        foreach (int quarter in new[] { 1, 2 })
        {
            foreach (var study in options.Studies)
            {
                string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", study), $"{study}_FILE1_v{quarter}_*.csv").Single();
                await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{study}/{Path.GetFileName(file)}", file);
            }

            foreach (var study in options.Studies)
            {
                var record = await Wait.ForAsync(async () => await versions.GetAsync(study, File1VersionStore.IdFor(study, quarter), CancellationToken.None) is { State: not File1VersionState.Committed } r ? r : null, logs: app.Logs);
                Assert.Equal(File1VersionState.Accepted, record.State);
            }
        }

        // Outputs: the ID mapping has one row per participant and no identifier column.
        var ring = await app.Services.GetRequiredService<Linkage.Functions.Hosting.KeyRingProvider>().GetAsync(CancellationToken.None);
        using var tokenizer = await ring.GetStudyIdTokenizerAsync(CancellationToken.None);
        string alspac = options.Studies[0];
        var q2 = (await versions.GetAsync(alspac, File1VersionStore.IdFor(alspac, 2), CancellationToken.None))!;
        var idMap = await blobs.ReadLinesAsync(q2.Outputs["idMapping"]);
        Assert.Equal(q2.Participants + 1, idMap.Length);
        Assert.StartsWith("ttp_person_id,study,file1_version,ukllc_status,nhs_e_linkage", idMap[0], StringComparison.Ordinal);

        // NHS Output: exactly the active participants permitting NHS England linkage, minus national opt-outs for s251.
        var input = File1Facts.Read(Directory.GetFiles(Path.Combine(_synthDir, "file1", alspac), $"{alspac}_FILE1_v2_*.csv").Single());
        var nhsOut = await blobs.ReadLinesAsync(q2.Outputs["nhsOutput"]);
        var nhsTokens = nhsOut.Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        var expected = input.Current.Where(c => c.Active && c.NhsE).Select(c => tokenizer.Tokenize(alspac, c.StudyId)).ToHashSet();
        Assert.Equal(expected.OrderBy(x => x), nhsTokens.OrderBy(x => x));

        string s251 = options.S251StudyCode;
        var s251Record = (await versions.GetAsync(s251, File1VersionStore.IdFor(s251, 2), CancellationToken.None))!;
        var optOutList = File.ReadAllLines(Path.Combine(_synthDir, "optout", "national_opt_out.csv")).Skip(1).ToHashSet();
        var s251Input = File1Facts.Read(Directory.GetFiles(Path.Combine(_synthDir, "file1", s251), $"{s251}_FILE1_v2_*.csv").Single());
        var optedOut = s251Input.Current.Where(c => c.Active && c.NhsE && s251Input.NhsNumbersOf(c.StudyId).Any(optOutList.Contains)).ToList();
        Assert.NotEmpty(optedOut);
        var s251NhsTokens = (await blobs.ReadLinesAsync(s251Record.Outputs["nhsOutput"])).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        Assert.All(optedOut, c => Assert.DoesNotContain(tokenizer.Tokenize(s251, c.StudyId), s251NhsTokens));
        Assert.True(s251Record.Counts["nationalOptOutApplied"] >= optedOut.Count);

        // Delta: every withdrawal between the quarters, by token.
        var q1Input = File1Facts.Read(Directory.GetFiles(Path.Combine(_synthDir, "file1", alspac), $"{alspac}_FILE1_v1_*.csv").Single());
        var withdrawnNow = input.Current.Where(c => !c.Active).Select(c => c.StudyId).ToHashSet();
        var expectedWithdrawals = q1Input.Current.Where(c => c.Active && withdrawnNow.Contains(c.StudyId)).Select(c => tokenizer.Tokenize(alspac, c.StudyId)).ToHashSet();
        Assert.NotEmpty(expectedWithdrawals);
        var delta = await blobs.ReadLinesAsync(q2.Outputs["delta"]);
        var withdrawals = delta.Skip(1).Select(l => l.Split(',')).Where(f => f[1] == "withdrawn").Select(f => f[0]).ToHashSet();
        Assert.Equal(expectedWithdrawals.OrderBy(x => x), withdrawals.OrderBy(x => x));

        // Registry: current permissions for every participant, history with the file version of each change.
        var registry = app.Services.GetRequiredService<ParticipantRegistry>();
        long registered = 0;
        for (int page = 0; page < 256; page++)
        {
            registered += (await registry.GetPageAsync(alspac, page, CancellationToken.None))?.Participants.Count ?? 0;
        }

        Assert.Equal(input.Current.Count, registered);
        Assert.True(q2.Counts["registryChanges"] >= expectedWithdrawals.Count);

        // Cross-study links were found (synth puts some people in two studies).
        Assert.Contains(options.Studies, s => versions.GetAsync(s, File1VersionStore.IdFor(s, 2), CancellationToken.None).Result!.Counts["crossStudyLinks"] > 0);

        // The inbox is empty: processed files were moved to the archive.
        Assert.Empty(await blobs.GetBlobContainerClient(TtpStorage.File1Inbox).ListNamesAsync());

        await AssertNoIdentifierOutsideTtpZone(blobs, cosmos, app.Logs, app.TaskHub);
    }

    private async Task AssertNoIdentifierOutsideTtpZone(BlobServiceClient blobs, Linkage.Azure.Cosmos.CosmosDatabase cosmos, CapturingLoggerProvider logs, string taskHub)
    {
        var identifiers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(_synthDir, "file1"), "*.csv", SearchOption.AllDirectories))
        {
            identifiers.UnionWith(File1Facts.Read(file).Identifiers());
        }

        Assert.True(identifiers.Count > 500, "the scan needs identifiers to look for");
        var scan = new IdentifierScan(identifiers);
        var ttpContainers = TtpStorage.TtpContainers.ToHashSet();
        var scanned = new List<string>();

        // Every blob outside the TTP zone's containers (processor inbox, host receipts, anything else).
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            if (ttpContainers.Contains(container.Name))
            {
                continue;
            }

            var client = blobs.GetBlobContainerClient(container.Name);
            foreach (var name in await client.ListNamesAsync())
            {
                string text = IdentifierScan.BlobText((await client.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray()) + "\n" + name;
                scan.AssertFree(text, $"{container.Name}/{name}");
                scanned.Add($"{container.Name}/{name}");
            }
        }

        Assert.Contains(scanned, s => s.StartsWith(TtpStorage.ProcessorInbox + "/id-mapping/", StringComparison.Ordinal));
        Assert.Contains(scanned, s => s.StartsWith(TtpStorage.ProcessorInbox + "/permissions/", StringComparison.Ordinal));
        Assert.Contains(scanned, s => s.StartsWith(taskHub.ToLowerInvariant() + "-", StringComparison.Ordinal)); // the Durable Task hub's blobs

        // The Durable Task hub's tables (history, instances) and every queue: workflow inputs, outputs and events.
        Assert.True(await scan.ScanTablesAsync(stack.Stack.StorageConnectionString) > 20, "the hub's history must have been scanned");
        await scan.ScanQueuesAsync(stack.Stack.StorageConnectionString);

        // Every document of every Cosmos container, the TTP's included: the registry holds tokens and flags only.
        var db = cosmos.Client.GetDatabase("linkage");
        using var containers = db.GetContainerQueryIterator<ContainerProperties>();
        int documents = 0;
        while (containers.HasMoreResults)
        {
            foreach (var c in await containers.ReadNextAsync())
            {
                using var docs = db.GetContainer(c.Id).GetItemQueryStreamIterator("SELECT * FROM c");
                while (docs.HasMoreResults)
                {
                    using var page = await docs.ReadNextAsync();
                    using var reader = new StreamReader(page.Content);
                    string json = await reader.ReadToEndAsync();
                    scan.AssertFree(json, $"cosmos {c.Id}");
                    documents++;
                }
            }
        }

        Assert.True(documents > 0);

        // And the logs.
        scan.AssertFree(string.Join('\n', logs.Lines), "the captured logs");
    }
}
