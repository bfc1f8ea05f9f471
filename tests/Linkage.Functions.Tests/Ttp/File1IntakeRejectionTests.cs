using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.File1;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Synth;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>Rejected files are kept and reported; redelivered files do no double work.</summary>
public sealed class File1IntakeRejectionTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-synth-").FullName;

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    private static string Header => string.Join(',', File1Schema.FieldNames);

    [Fact]
    public async Task A_bad_file_is_quarantined_with_its_report_and_nothing_else_changes()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();

        // Line 2 has a failing NHS check digit, line 3 a bad date; both must be reported with their lines.
        string good = "ELS00000001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/03/2026,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0";
        string badNhs = "ELS00000002,C,9434765918,JONES,BEN,,2 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1971,1,01/03/2026,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0";
        string badDate = "ELS00000003,C,,BROWN,CARL,,3 HIGH ST,,,,,AB1 2CD,01/01/2000,,31/02/1972,1,01/03/2026,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0";
        string name = "ELSA/ELSA_FILE1_v1_20260301.csv";
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        byte[] content = Encoding.UTF8.GetBytes(string.Join('\n', Header, good, badNhs, badDate) + "\n");
        await inbox.GetBlobClient(name).UploadAsync(new BinaryData(content));

        var record = await Wait.ForAsync(async () =>
            (await versions.AcceptedAsync("ELSA", CancellationToken.None)).Count > 0 ? null : await FindRejected(app, "ELSA"), logs: app.Logs);
        Assert.Equal(File1VersionState.Rejected, record.State);
        Assert.Equal(2, record.Errors);

        // The file is kept, byte for byte, in quarantine, with the report beside it and a copy in the provider's area.
        // The record is written before the move (it names the copy it is making), so the copy may follow a moment later.
        var quarantine = blobs.GetBlobContainerClient(TtpStorage.File1Quarantine);
        await Wait.ForAsync(() => blobs.TryDownloadTextAsync($"{TtpStorage.ProviderReports}/{name}.report.json"), logs: app.Logs);
        await Wait.ForAsync(() => blobs.TryDownloadTextAsync($"{TtpStorage.File1Quarantine}/{name}"), logs: app.Logs);
        await Wait.ForAsync(() => blobs.TryDownloadTextAsync($"{TtpStorage.File1Quarantine}/{name}.report.json"), logs: app.Logs);
        Assert.Equal(content, (await quarantine.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray());
        var report = JsonNode.Parse((await quarantine.GetBlobClient(name + ".report.json").DownloadContentAsync()).Value.Content.ToString())!;
        Assert.False((bool)report["accepted"]!);
        var findings = report["findings"]!.AsArray();
        Assert.Contains(findings, f => (string?)f!["field"] == "NHS_NUMBER" && f["lines"]!.AsArray().Select(l => (int)l!).SequenceEqual([3]));
        Assert.Contains(findings, f => (string?)f!["field"] == "DATE_OF_BIRTH" && f["lines"]!.AsArray().Select(l => (int)l!).SequenceEqual([4]));
        var providerCopy = await blobs.GetBlobContainerClient(TtpStorage.ProviderReports).GetBlobClient(name + ".report.json").DownloadContentAsync();
        Assert.Equal(report.ToJsonString(), JsonNode.Parse(providerCopy.Value.Content.ToString())!.ToJsonString());
        Assert.DoesNotContain("9434765918", providerCopy.Value.Content.ToString(), StringComparison.Ordinal);

        // Nothing else: no outputs for the processor or NHS England, no registry entries, the inbox emptied.
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).ListNamesAsync(), n => n.Contains("ELSA", StringComparison.Ordinal));
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).ListNamesAsync(), n => n.Contains("ELSA", StringComparison.Ordinal));
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.File1Inbox).ListNamesAsync(), n => n.Contains("ELSA", StringComparison.Ordinal));
        var registry = app.Services.GetRequiredService<ParticipantRegistry>();
        for (int page = 0; page < 256; page++)
        {
            Assert.Null(await registry.GetPageAsync("ELSA", page, CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_file_in_another_providers_area_is_rejected()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        string row = "MCS00000001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/03/2026,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0";
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        await inbox.GetBlobClient("TEDS/MCS_FILE1_v1_20260301.csv").UploadAsync(BinaryData.FromString(Header + "\n" + row + "\n"));

        var record = await Wait.ForAsync(() => FindRejected(app, "TEDS"), logs: app.Logs);
        Assert.Equal(File1VersionState.Rejected, record.State);
        var report = JsonNode.Parse((await blobs.GetBlobContainerClient(TtpStorage.ProviderReports).GetBlobClient("TEDS/MCS_FILE1_v1_20260301.csv.report.json").DownloadContentAsync()).Value.Content.ToString())!;
        Assert.Contains(report["findings"]!.AsArray(), f => (string?)f!["code"] == "file-name-study-mismatch");
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).ListNamesAsync(), n => n.Contains("TEDS", StringComparison.Ordinal) || n.Contains("MCS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_file_outside_any_study_folder_is_rejected_not_ignored()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        await inbox.GetBlobClient("GLAD_FILE1_v1_20260301.csv").UploadAsync(BinaryData.FromString(Header + "\n"));

        var record = await Wait.ForAsync(() => FindRejected(app, "_unknown"), logs: app.Logs);
        Assert.Equal("GLAD_FILE1_v1_20260301.csv", record.FileName);
        var report = JsonNode.Parse((await blobs.GetBlobContainerClient(TtpStorage.File1Quarantine).GetBlobClient("GLAD_FILE1_v1_20260301.csv.report.json").DownloadContentAsync()).Value.Content.ToString())!;
        Assert.Contains(report["findings"]!.AsArray(), f => (string?)f!["code"] == "file-name-study-mismatch");
    }

    [Fact]
    public async Task The_same_file_delivered_twice_changes_nothing_the_second_time()
    {
        var options = new SynthOptions { Seed = 11, Studies = ["UKHLS"], Participants = 120, File2Rows = 10, Quarters = 1, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        string optOutList = Path.Combine(_synthDir, "optout", "national_opt_out.csv");
        string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", "UKHLS")).Single();
        string name = $"UKHLS/{Path.GetFileName(file)}";
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, optOutList);

        await inbox.GetBlobClient(name).UploadAsync(file, overwrite: true);
        var first = await Wait.ForAsync(async () => await versions.GetAsync("UKHLS", File1VersionStore.IdFor("UKHLS", 1), CancellationToken.None) is { State: File1VersionState.Accepted } r && r.Outputs.ContainsKey("archived") ? r : null);
        var registry = app.Services.GetRequiredService<ParticipantRegistry>();
        string registryBefore = await RegistryJson(registry);
        var outputsBefore = await ReadOutputs(blobs, first);

        // The provider sends the same file again (a new blob version with the same content).
        await inbox.GetBlobClient(name).UploadAsync(file, overwrite: true);
        var second = await Wait.ForAsync(async () =>
        {
            var r = await versions.GetAsync("UKHLS", File1VersionStore.IdFor("UKHLS", 1), CancellationToken.None);
            return r is { State: File1VersionState.Accepted } && r.SourceETag != first.SourceETag && r.Outputs["archived"] != first.Outputs["archived"] ? r : null;
        });

        // Not a correction: no new revision (which the next quarter would send NHS England again), the same files in force.
        Assert.Equal(File1VersionState.Accepted, second.State);
        Assert.Equal((0, 0), (second.Revision, second.Revisions.Count));
        Assert.Equal(first.SourceSha256, second.SourceSha256);
        Assert.Equal(first.Files, second.Files);
        Assert.Equal(first.Counts, second.Counts);
        Assert.Equal(registryBefore, await RegistryJson(registry));
        var outputsAfter = await ReadOutputs(blobs, second);
        Assert.Equal(outputsBefore.Keys.Order(), outputsAfter.Keys.Order());
        Assert.All(outputsBefore.Keys.Where(k => k != "archived"), k => Assert.Equal(outputsBefore[k], outputsAfter[k]));
        Assert.NotEqual(first.Outputs["archived"], second.Outputs["archived"]); // both deliveries are kept
        Assert.Equal(outputsBefore["archived"], outputsAfter["archived"]);
        Assert.False(await inbox.GetBlobClient(name).ExistsAsync());
    }

    [Fact]
    public async Task An_old_version_delivered_again_is_rejected_and_leaves_the_accepted_history_as_it_was()
    {
        var options = new SynthOptions { Seed = 12, Studies = ["BCS70"], Participants = 150, File2Rows = 10, Quarters = 2, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        string optOutList = Path.Combine(_synthDir, "optout", "national_opt_out.csv");
        string[] files = [.. Directory.GetFiles(Path.Combine(_synthDir, "file1", "BCS70")).Order(StringComparer.Ordinal)];
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, optOutList);
        async Task<File1VersionRecord> DeliverAsync(string file, int version, string? notETag = null)
        {
            await inbox.GetBlobClient($"BCS70/{Path.GetFileName(file)}").UploadAsync(file, overwrite: true);
            return await Wait.ForAsync(async () =>
            {
                var r = await versions.GetAsync("BCS70", File1VersionStore.IdFor("BCS70", version), CancellationToken.None);
                return r is { State: not File1VersionState.Committed } && r.SourceETag != notETag ? r : null;
            }, logs: app.Logs);
        }

        var v1 = await DeliverAsync(files[0], 1);
        var v2 = await DeliverAsync(files[1], 2);
        Assert.Equal((File1VersionState.Accepted, File1VersionState.Accepted), (v1.State, v2.State));

        // Quarter 1's file arrives again after quarter 2's: it would roll permissions back, so it is refused...
        await inbox.GetBlobClient($"BCS70/{Path.GetFileName(files[0])}").UploadAsync(files[0], overwrite: true);
        var stale = await Wait.ForAsync(() => FindRejected(app, "BCS70"), logs: app.Logs);
        Assert.Equal(1, stale.Version);

        // ...and the accepted history is untouched: both versions are still accepted, from their original deliveries.
        var history = await versions.AcceptedAsync("BCS70", CancellationToken.None);
        Assert.Equal([(1, v1.SourceETag), (2, v2.SourceETag)], history.Select(r => (r.Version!.Value, r.SourceETag)));

        // So quarter 2's file delivered again is still checked as a later file (not refused as stale), and being the
        // same bytes it leaves version 2 as it was: no revision, the same counts.
        var again = await DeliverAsync(files[1], 2, notETag: v2.SourceETag);
        Assert.Equal(File1VersionState.Accepted, again.State);
        Assert.Equal((0, v2.SourceSha256), (again.Revision, again.SourceSha256));
        Assert.Equal(v2.Counts, again.Counts);
        Assert.Single(await versions.AcceptedAsync("BCS70", CancellationToken.None), r => r.Version == 2);
    }

    [Fact]
    public async Task A_delivery_runs_as_a_workflow_and_its_record_says_how_it_ended()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        string name = "NSHD46/NSHD46_FILE1_v1_20260301.csv";
        var uploaded = await inbox.GetBlobClient(name).UploadAsync(BinaryData.FromString(Header + "\n")); // header only: rejected

        var delivery = new Linkage.Functions.Deliveries.DeliveryRef(TtpStorage.File1Inbox, name, uploaded.Value.ETag.ToString());
        var store = app.Services.GetRequiredService<Linkage.Functions.Deliveries.DeliveryStore>();
        var done = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: Linkage.Functions.Deliveries.DeliveryState.Completed } r ? r : null);
        Assert.Equal("Rejected", done.Outcome);
        Assert.Equal(1, done.Attempts);
        Assert.NotNull(await FindRejected(app, "NSHD46"));
        Assert.True(await blobs.GetBlobContainerClient(TtpStorage.File1Quarantine).GetBlobClient(name + ".report.json").ExistsAsync());

        var durable = app.Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>();
        var workflow = await durable.WaitForInstanceCompletionAsync(done.InstanceId, getInputsAndOutputs: true, new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed, workflow.RuntimeStatus);
        Assert.Contains("Rejected", workflow.SerializedOutput, StringComparison.Ordinal);
    }

    private static async Task<File1VersionRecord?> FindRejected(FunctionAppFactory app, string study)
    {
        var db = app.Services.GetRequiredService<Linkage.Azure.Cosmos.CosmosDatabase>();
        var container = await db.ContainerAsync(File1VersionStore.ContainerId, "/study", CancellationToken.None);
        using var it = container.GetItemQueryIterator<File1VersionRecord>(
            new Microsoft.Azure.Cosmos.QueryDefinition("SELECT * FROM c WHERE c.study = @s AND c.state = 'Rejected'").WithParameter("@s", study),
            requestOptions: new Microsoft.Azure.Cosmos.QueryRequestOptions { PartitionKey = new Microsoft.Azure.Cosmos.PartitionKey(study) });
        while (it.HasMoreResults)
        {
            foreach (var r in await it.ReadNextAsync())
            {
                return r;
            }
        }

        return null;
    }

    private static async Task<string> RegistryJson(ParticipantRegistry registry)
    {
        var sb = new StringBuilder();
        for (int page = 0; page < 256; page++)
        {
            var p = await registry.GetPageAsync("UKHLS", page, CancellationToken.None);
            if (p is not null)
            {
                sb.Append(System.Text.Json.JsonSerializer.Serialize(p.Participants.OrderBy(x => x.Key))).Append(p.History.Count);
            }
        }

        return sb.ToString();
    }

    private static async Task<Dictionary<string, string>> ReadOutputs(BlobServiceClient blobs, File1VersionRecord record)
    {
        var result = new Dictionary<string, string>();
        foreach (var (k, path) in record.Outputs)
        {
            int slash = path.IndexOf('/', StringComparison.Ordinal);
            result[k] = Convert.ToHexString((await blobs.GetBlobContainerClient(path[..slash]).GetBlobClient(path[(slash + 1)..]).DownloadContentAsync()).Value.Content.ToArray());
        }

        return result;
    }
}
