using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Azure.Storage.Blobs;
using Linkage.Azure.Cosmos;
using Linkage.Functions.Api;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Synth;
using Linkage.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Tests.LocalHost;

/// <summary>
/// The local host killed as a crash would (SIGKILL) while a delivery's activity runs: the workflow resumes when a host
/// starts again and completes with every effect applied once; a file that kills the host on every attempt is held.
/// </summary>
public sealed class CrashRecoveryTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-crash-").FullName;
    private readonly ConcurrentQueue<string> _output = new();

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    [Fact]
    public async Task A_delivery_survives_two_kills_mid_run_and_its_effects_are_applied_once()
    {
        var (settings, blobs, store) = await PrepareAsync("ALSPAC", maxAttempts: 5);
        var host = LocalHostProcess.Start(stack.Stack, settings, _output);
        try
        {
            var delivery = await DeliverAsync(blobs, "ALSPAC");
            await WaitForRunningAttemptAsync(store, delivery, 1);
            host.Kill(); // early in the first attempt
            host = LocalHostProcess.Start(stack.Stack, settings, _output);

            // The second attempt is killed once it has visibly applied part of its work: registry pages carry the file,
            // the version is committed but not yet published. The third must finish without applying anything twice.
            await WaitForRunningAttemptAsync(store, delivery, 2);
            int applied = await WaitForAppliedPagesAsync("ALSPAC", $"v1:{delivery.ETag}");
            using (var check = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey))
            {
                host.Kill();
                Assert.True(await new File1VersionStore(new CosmosDatabase(check, "linkage")).GetAsync("ALSPAC", File1VersionStore.IdFor("ALSPAC", 1), CancellationToken.None) is { State: File1VersionState.Committed }, "The second attempt finished before it could be killed mid-run.");
            }

            Assert.True(applied > 0);
            host = LocalHostProcess.Start(stack.Stack, settings, _output);

            var done = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Completed } r ? r : null, seconds: 240);
            Assert.Equal("Accepted", done.Outcome);
            // Two killed, one finished; activities run at least once, so after each kill the engine may begin the
            // interrupted try again before the retry (as in the crash-loop test below): 3 to 5 counted tries.
            Assert.InRange(done.Attempts, 3, 5);

            // The workflow itself completed, on the host started after the second kill.
            using var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate(FunctionAppFactory.DevTokenFolder(stack.Stack)).Issue([Roles.Operator], "op", TimeSpan.FromMinutes(5)));
            string status = await Wait.ForAsync(async () => await http.GetStringAsync($"/api/workflows/{done.InstanceId}") is { } s && s.Contains("\"Completed\"", StringComparison.Ordinal) ? s : null);
            Assert.Contains("Accepted", status, StringComparison.Ordinal);

            // Every effect once: one accepted version, each registry page applied the file once, one of each output.
            using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
            var versions = new File1VersionStore(new CosmosDatabase(cosmos, "linkage"));
            var record = (await versions.GetAsync("ALSPAC", File1VersionStore.IdFor("ALSPAC", 1), CancellationToken.None))!;
            Assert.Equal(File1VersionState.Accepted, record.State);
            var registry = new ParticipantRegistry(new CosmosDatabase(cosmos, "linkage"));
            long participants = 0;
            for (int page = 0; page < 256; page++)
            {
                if (await registry.GetPageAsync("ALSPAC", page, CancellationToken.None) is { } p)
                {
                    Assert.Equal([$"v1:{delivery.ETag}"], p.AppliedFiles);
                    participants += p.Participants.Count;
                }
            }

            Assert.Equal(record.Participants, participants);
            Assert.Single(await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).ListNamesAsync(), n => n.Contains("ALSPAC_NHSOUT_v1_", StringComparison.Ordinal));
            Assert.Single(await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).ListNamesAsync(), n => n.Contains("ALSPAC_PERMS_v1_", StringComparison.Ordinal));
        }
        finally
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task A_host_killed_after_staging_and_again_after_committing_leaves_one_published_version_and_no_strays()
    {
        var (settings, blobs, store) = await PrepareAsync("BIB", maxAttempts: 5);
        var delivery = await DeliverAsync(blobs, "BIB");
        foreach (string step in new[] { File1Steps.Staged, File1Steps.Committed })
        {
            // The process kills itself at the step (SIGKILL: no finally block, no disposal), as a dying machine would.
            using var dying = LocalHostProcess.Start(stack.Stack, new Dictionary<string, string>(settings) { ["Faults:At"] = step, ["Faults:Action"] = "Kill" }, _output);
            await Wait.ForAsync(() => Task.FromResult<object?>(dying.HasExited ? new object() : null), seconds: 180);
        }

        using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        var versions = new File1VersionStore(new CosmosDatabase(cosmos, "linkage"));
        Assert.Equal(File1VersionState.Committed, (await versions.GetAsync("BIB", File1VersionStore.IdFor("BIB", 1), CancellationToken.None))!.State);
        Assert.False((await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).GetBlobClient(TtpProcessorContract.Manifest("BIB")).ExistsAsync()).Value, "committed but not yet published: no manifest");

        using var host = LocalHostProcess.Start(stack.Stack, settings, _output);
        var done = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Completed } r ? r : null, seconds: 240);
        Assert.Equal("Accepted", done.Outcome);
        var record = (await versions.GetAsync("BIB", File1VersionStore.IdFor("BIB", 1), CancellationToken.None))!;
        Assert.Equal(File1VersionState.Accepted, record.State);

        // Exactly the committed outputs exist, each once, and the manifest names them.
        var named = record.Files.Values.Select(f => f.Name).Order(StringComparer.Ordinal).ToList();
        var present = new List<string>();
        foreach (var (container, prefix) in File1OutputWriter.StudyPrefixes("BIB"))
        {
            present.AddRange((await blobs.GetBlobContainerClient(container).ListNamesAsync()).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => $"{container}/{n}"));
        }

        Assert.Equal(named, present.Order(StringComparer.Ordinal).ToList());
        var source = new PermissionSnapshotSource(blobs, Microsoft.Extensions.Options.Options.Create(new TtpManifestOptions()), new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Development" }, new ManifestHighWaterMarks(new CosmosDatabase(cosmos, "linkage"), TimeProvider.System));
        Assert.Equal(1, (await source.GetManifestAsync("BIB", CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task A_file_that_kills_the_host_on_every_attempt_is_held_not_retried_for_ever()
    {
        var (settings, blobs, store) = await PrepareAsync("UKHLS", maxAttempts: 2);
        var host = LocalHostProcess.Start(stack.Stack, settings, _output);
        try
        {
            var delivery = await DeliverAsync(blobs, "UKHLS");
            for (int kill = 1; kill <= 2; kill++)
            {
                await WaitForRunningAttemptAsync(store, delivery, kill);
                host.Kill();
                host = LocalHostProcess.Start(stack.Stack, settings, _output);
            }

            var held = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Held } r ? r : null, seconds: 240);
            Assert.Equal(FailureClass.CrashLoop, held.LastErrorClass);
            // A try that began after two unfinished ones held the file instead of running it (activities run at least once,
            // so the engine may begin that try twice after a restart: 3 or 4).
            Assert.InRange(held.Attempts, 3, 4);
            // The record is held first and the note written after it, so the note may trail the state by a moment.
            var note = await Wait.ForAsync(() => blobs.TryDownloadTextAsync(held.ProviderNote!), seconds: 30);
            Assert.Contains("UKHLS_FILE1_v1_", note, StringComparison.Ordinal);
            Assert.True((await blobs.GetBlobContainerClient(TtpStorage.File1Inbox).GetBlobClient(delivery.BlobName).ExistsAsync()).Value, "a held file stays in the inbox");
        }
        finally
        {
            host.Dispose();
        }
    }

    private async Task<(Dictionary<string, string> Settings, BlobServiceClient Blobs, DeliveryStore Store)> PrepareAsync(string study, int maxAttempts)
    {
        new SynthGenerator(new SynthOptions { Seed = 11, Participants = 30_000, File2Rows = 10, Quarters = 1, Studies = [study], InvalidNhsShare = 0 })
            .Generate(Path.Combine(_synthDir, study), null, CancellationToken.None);
        var blobs = stack.CreateBlobServiceClient();
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, Path.Combine(_synthDir, study, "optout", "national_opt_out.csv"));
        var settings = new Dictionary<string, string>
        {
            ["Runtime:Zones"] = "ttp",
            ["Runtime:HostId"] = LocalStackFixture.UniqueName("crash"),
            ["DurableTaskHubName"] = "c" + Guid.NewGuid().ToString("N")[..20],
            ["Runtime:DurableVisibilityTimeout"] = "00:00:05",
            ["Runtime:BlobPollInterval"] = "00:00:00.500",
            ["File1:StudyLockLeaseSeconds"] = "15",
            ["Deliveries:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        return (settings, blobs, new DeliveryStore(new CosmosDatabase(cosmos, "linkage"), TimeProvider.System));
    }

    private async Task<DeliveryRef> DeliverAsync(BlobServiceClient blobs, string study)
    {
        string file = Directory.GetFiles(Path.Combine(_synthDir, study, "file1", study), $"{study}_FILE1_v1_*.csv").Single();
        string name = $"{study}/{Path.GetFileName(file)}";
        await blobs.UploadFileAsync(TtpStorage.File1Inbox, name, file);
        var etag = (await blobs.GetBlobContainerClient(TtpStorage.File1Inbox).GetBlobClient(name).GetPropertiesAsync()).Value.ETag;
        return new DeliveryRef(TtpStorage.File1Inbox, name, etag.ToString());
    }

    /// <summary>Waits until some registry page of <paramref name="study"/> has <paramref name="file"/> applied; returns how many have.</summary>
    private async Task<int> WaitForAppliedPagesAsync(string study, string file)
    {
        using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        var container = await new CosmosDatabase(cosmos, "linkage").ContainerAsync(ParticipantRegistry.ContainerId, "/study", CancellationToken.None);
        var query = new QueryDefinition("SELECT c.id FROM c WHERE ARRAY_CONTAINS(c.appliedFiles, @file)").WithParameter("@file", file);
        var until = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < until)
        {
            int count = 0;
            using var it = container.GetItemQueryIterator<System.Text.Json.JsonElement>(query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(study) });
            while (it.HasMoreResults)
            {
                count += (await it.ReadNextAsync()).Count;
            }

            if (count > 0)
            {
                return count;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"No registry page of {study} took the file within 120 s. Host output:\n{string.Join('\n', _output.TakeLast(30))}");
    }

    /// <summary>Waits until attempt <paramref name="attempt"/> has begun and not ended: the moment to kill.</summary>
    private async Task WaitForRunningAttemptAsync(DeliveryStore store, DeliveryRef delivery, int attempt)
    {
        var until = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < until)
        {
            var r = await store.GetAsync(delivery.Id, CancellationToken.None);
            if (r is { State: DeliveryState.Running } && r.Attempts == attempt)
            {
                return;
            }

            Assert.False(r is { State: DeliveryState.Completed or DeliveryState.Held }, $"Attempt {attempt} ended ({r?.State}) before the test could kill the host; the file is too small for this machine.");
            await Task.Delay(25);
        }

        throw new TimeoutException($"Attempt {attempt} did not begin within 180 s. Host output:\n{string.Join('\n', _output.TakeLast(30))}");
    }
}
