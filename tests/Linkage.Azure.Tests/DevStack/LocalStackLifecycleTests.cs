using System.Diagnostics;
using System.Net;
using Linkage.Azure.Cosmos;
using Linkage.DevStack;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Tests.DevStack;

/// <summary>Starting, stopping, restarting and reusing whole stacks (each test starts its own, not the shared one).</summary>
[Collection(Name)]
public sealed class LocalStackLifecycleTests : IDisposable
{
    public const string Name = "LocalStackLifecycle";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "linkage-devstack-test-" + Guid.NewGuid().ToString("N"));

    public sealed record Note(string Id, string Owner, string Text);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public async Task Persistent_state_survives_a_restart_with_the_same_data_directory()
    {
        var options = new LocalStackOptions { DataDirectory = _dir, Persistent = true };
        string etag;
        await using (var first = await LocalStack.StartAsync(options, CancellationToken.None))
        {
            using var cosmos = CosmosClientFactory.Create(new Uri(first.CosmosEndpoint), first.CosmosKey);
            var db = (await cosmos.CreateDatabaseAsync("registry")).Database;
            var container = (await db.CreateContainerAsync("notes", "/owner")).Container;
            etag = (await container.UpsertItemAsync(new Note("n1", "team-a", "kept"), new PartitionKey("team-a"))).ETag;
            await container.UpsertItemAsync(new Note("n2", "team-b", "also kept"), new PartitionKey("team-b"));
            var blobs = new global::Azure.Storage.Blobs.BlobContainerClient(first.StorageConnectionString, "kept");
            await blobs.CreateAsync();
            await blobs.GetBlobClient("a.txt").UploadAsync(BinaryData.FromString("blob kept"));
        }

        await using var second = await LocalStack.StartAsync(options, CancellationToken.None);
        using var again = CosmosClientFactory.Create(new Uri(second.CosmosEndpoint), second.CosmosKey);
        var notes = again.GetContainer("registry", "notes");
        var n1 = await notes.ReadItemAsync<Note>("n1", new PartitionKey("team-a"));
        var teamB = notes.GetItemQueryIterator<Note>("SELECT * FROM c",
            requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey("team-b") });
        var blob = await new global::Azure.Storage.Blobs.BlobClient(second.StorageConnectionString, "kept", "a.txt").DownloadContentAsync();

        Assert.Equal(new Note("n1", "team-a", "kept"), n1.Resource);
        Assert.Equal(etag, n1.ETag);
        Assert.Equal(["n2"], (await teamB.ReadNextAsync()).Select(n => n.Id));
        Assert.Equal("blob kept", blob.Value.Content.ToString());
        var created = await notes.CreateItemAsync(new Note("n3", "team-a", "new after restart"), new PartitionKey("team-a"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task Cosmos_writes_are_saved_periodically_so_a_killed_stand_in_loses_at_most_seconds()
    {
        var options = new LocalStackOptions { DataDirectory = _dir, Persistent = true };
        string state = Path.Combine(_dir, "cosmos", "cosmos-state.ndjson");
        await using (var first = await LocalStack.StartAsync(options, CancellationToken.None))
        {
            using var cosmos = CosmosClientFactory.Create(new Uri(first.CosmosEndpoint), first.CosmosKey);
            var container = (await (await cosmos.CreateDatabaseAsync("registry")).Database.CreateContainerAsync("notes", "/owner")).Container;
            await container.UpsertItemAsync(new Note("n1", "team-a", "saved by the timer"), new PartitionKey("team-a"));

            var watch = Stopwatch.StartNew();
            while (!(File.Exists(state) && (await File.ReadAllTextAsync(state)).Contains("saved by the timer", StringComparison.Ordinal))
                   && watch.Elapsed < Bound)
            {
                await Task.Delay(200);
            }

            using var standIn = Process.GetProcessById(first.Ports.CosmosProcessId);
            standIn.Kill(); // SIGKILL: no shutdown dump, only what the timer saved
            await standIn.WaitForExitAsync();
        }

        await using var second = await LocalStack.StartAsync(options, CancellationToken.None);
        using var again = CosmosClientFactory.Create(new Uri(second.CosmosEndpoint), second.CosmosKey);
        var n1 = await again.GetContainer("registry", "notes").ReadItemAsync<Note>("n1", new PartitionKey("team-a"));
        Assert.Equal("saved by the timer", n1.Resource.Text);
    }

    [Fact]
    public async Task A_corrupt_state_file_stops_the_start_with_an_error_naming_the_server()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "cosmos"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "cosmos", "cosmos-state.ndjson"), "{not json\n");

        var error = await Assert.ThrowsAsync<ServerStartException>(() =>
            LocalStack.StartAsync(new LocalStackOptions { DataDirectory = _dir, Persistent = true }, CancellationToken.None));

        Assert.Equal("Cosmos DB stand-in", error.Server);
        Assert.Contains("Cosmos DB stand-in", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot load", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_stack_is_reused_and_disposing_the_reused_one_stops_nothing()
    {
        string stackFile = Path.Combine(_dir, "stack.json");
        await using var owner = await LocalStack.StartAsync(new LocalStackOptions(), CancellationToken.None);
        await owner.PublishAsync(stackFile, CancellationToken.None);

        await using (var reused = await LocalStack.StartAsync(new LocalStackOptions { ReuseRunning = true, StackFile = stackFile }, CancellationToken.None))
        {
            Assert.True(reused.Reused);
            Assert.Equal(owner.CosmosEndpoint, reused.CosmosEndpoint);
            Assert.Equal(owner.StorageConnectionString, reused.StorageConnectionString);
        }

        using var cosmos = CosmosClientFactory.Create(new Uri(owner.CosmosEndpoint), owner.CosmosKey);
        var db = await cosmos.CreateDatabaseIfNotExistsAsync("still-up");
        Assert.Equal(HttpStatusCode.Created, db.StatusCode);
        Assert.True(ProcessSignals.IsAlive(owner.Ports.AzuriteProcessId));
    }

    [Fact]
    public async Task A_stale_stack_file_is_ignored_and_a_new_stack_starts()
    {
        string stackFile = Path.Combine(_dir, "stack.json");
        int[] dead = FreePorts.Take(4);
        await new StackFile(dead[0], dead[1], dead[2], dead[3], 1, 1, 1, _dir).WriteAsync(stackFile, CancellationToken.None);

        await using var stack = await LocalStack.StartAsync(new LocalStackOptions { ReuseRunning = true, StackFile = stackFile }, CancellationToken.None);

        Assert.False(stack.Reused);
        Assert.NotEqual(dead[3], stack.Ports.CosmosPort);
    }

    [Fact]
    public async Task Up_stops_cleanly_on_sigterm_saving_state_and_removing_its_stack_file()
    {
        using var up = StartUp();
        var stackFile = await WaitForStackFileAsync(up);

        ProcessSignals.Terminate(up);
        await up.WaitForExitAsync(new CancellationTokenSource(Bound).Token);

        Assert.Equal(0, up.ExitCode);
        Assert.False(File.Exists(Path.Combine(_dir, "stack.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "data", "cosmos", "cosmos-state.ndjson")));
        Assert.False(ProcessSignals.IsAlive(stackFile.CosmosProcessId));
        Assert.False(ProcessSignals.IsAlive(stackFile.AzuriteProcessId));
    }

    [Fact]
    public async Task Killing_the_parent_leaves_no_orphan_server()
    {
        using var up = StartUp();
        var stackFile = await WaitForStackFileAsync(up);
        int[] servers = [stackFile.CosmosProcessId, stackFile.AzuriteProcessId, .. ChildrenOf(stackFile.AzuriteProcessId)];
        Assert.True(servers.Length >= 3, "the Azurite launcher runs Azurite as its child");
        try
        {
            up.Kill(entireProcessTree: false); // SIGKILL: no chance to clean up, only the watchdogs remain

            var watch = Stopwatch.StartNew();
            while (servers.Any(ProcessSignals.IsAlive) && watch.Elapsed < Bound)
            {
                await Task.Delay(100);
            }

            Assert.DoesNotContain(servers, ProcessSignals.IsAlive);
        }
        finally
        {
            foreach (int pid in servers.Where(ProcessSignals.IsAlive))
            {
                using var survivor = Process.GetProcessById(pid);
                survivor.Kill();
            }
        }
    }

    // `Linkage.DevStack up --dir <temp>`: the real dev command, as a separate dotnet process.
    private Process StartUp()
    {
        string dll = typeof(LocalStack).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { dll, "up", "--dir", _dir })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<StackFile> WaitForStackFileAsync(Process up)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (await StackFile.TryReadAsync(Path.Combine(_dir, "stack.json"), CancellationToken.None) is { } file)
            {
                return file;
            }

            Assert.False(up.HasExited, $"'up' exited early with code {(up.HasExited ? up.ExitCode : 0)}");
            await Task.Delay(100);
        }

        up.Kill(entireProcessTree: true);
        throw new TimeoutException("'up' did not write its stack file within 90 s.");
    }

    private static int[] ChildrenOf(int pid)
    {
        string path = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(path)
            ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()
            : [];
    }
}

[CollectionDefinition(LocalStackLifecycleTests.Name)]
public sealed class LocalStackLifecycleCollection;
