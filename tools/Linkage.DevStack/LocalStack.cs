using System.Globalization;

namespace Linkage.DevStack;

/// <summary>
/// The real local Azure stack: Azurite (blob, queue, table) and the Cosmos DB NoSQL stand-in
/// (tools/devstack/cosmos-standin.mjs), as Node child processes on free loopback ports, or the developer's
/// running stack when <see cref="LocalStackOptions.ReuseRunning"/> finds one.
/// </summary>
/// <remarks>
/// Tests share one instance per process through <see cref="SharedAsync"/>. Disposing stops the servers with SIGTERM
/// (the stand-in then saves its state) and removes a temporary data folder; disposing a reused stack stops nothing.
/// </remarks>
public sealed class LocalStack : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development account key (public, documented by Microsoft).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The Cosmos DB emulator's well-known key; the stand-in accepts any key.</summary>
    public const string WellKnownCosmosKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

    private static readonly Lock SharedLock = new();
    private static Task<LocalStack>? _shared;

    private readonly ServerProcess? _azurite;
    private readonly ServerProcess? _cosmos;
    private readonly bool _deleteDataDirectory;
    private string? _publishedStackFile;
    private int _disposed;

    private LocalStack(StackFile ports, bool reused, ServerProcess? azurite, ServerProcess? cosmos, bool deleteDataDirectory)
    {
        Ports = ports;
        Reused = reused;
        _azurite = azurite;
        _cosmos = cosmos;
        _deleteDataDirectory = deleteDataDirectory;
    }

    /// <summary>True when this attached to a stack started elsewhere (by <c>Linkage.DevStack up</c>).</summary>
    public bool Reused { get; }

    public string DataDirectory => Ports.DataDirectory;

    public Uri BlobServiceUri => ServiceUri(Ports.BlobPort);

    public Uri QueueServiceUri => ServiceUri(Ports.QueuePort);

    public Uri TableServiceUri => ServiceUri(Ports.TablePort);

    /// <summary>Azurite's development account with explicit Blob, Queue and Table endpoints.</summary>
    public string StorageConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint={BlobServiceUri};QueueEndpoint={QueueServiceUri};TableEndpoint={TableServiceUri};";

    /// <summary>The Cosmos stand-in's endpoint, <c>http://127.0.0.1:PORT/</c>.</summary>
    public string CosmosEndpoint => $"http://127.0.0.1:{Ports.CosmosPort.ToString(CultureInfo.InvariantCulture)}/";

    public string CosmosKey => WellKnownCosmosKey;

    /// <summary>Ports, process ids and data folder, as written to the stack file.</summary>
    public StackFile Ports { get; }

    /// <summary>The settings that point the function app at this stack, as environment variables.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> EnvironmentVariables() =>
    [
        new("AzureWebJobsStorage", StorageConnectionString),
        new("DataStorage__ConnectionString", StorageConnectionString),
        new("Cosmos__Endpoint", CosmosEndpoint),
        new("Cosmos__Key", CosmosKey),
    ];

    /// <summary>
    /// One stack for the whole process (every test class of every collection), started on first use with
    /// <see cref="LocalStackOptions.ForTests"/> and stopped when the process exits. Test fixtures call this.
    /// </summary>
    /// <remarks>A failed start is not kept (a port race, a slow machine): the next caller starts the stack again.</remarks>
    public static Task<LocalStack> SharedAsync(CancellationToken ct = default)
    {
        lock (SharedLock)
        {
            if (_shared is null || _shared.IsFaulted || _shared.IsCanceled)
            {
                _shared = Task.Run(StartSharedAsync, CancellationToken.None); // never a caller's token: the stack is shared
            }

            return _shared.WaitAsync(ct);
        }
    }

    public static async Task<LocalStack> StartAsync(LocalStackOptions options, CancellationToken ct)
    {
        string stackFile = options.StackFile ?? Path.Combine(RepositoryRoot.Find(), ".devstack", "stack.json");
        if (options.ReuseRunning && await TryAttachAsync(stackFile, ct) is { } running)
        {
            return running;
        }

        string nodeTools = RepositoryRoot.NodeToolsDirectory();
        await NodePackages.EnsureInstalledAsync(nodeTools, ct);

        string dataDirectory = Path.GetFullPath(options.DataDirectory
            ?? Path.Combine(Path.GetTempPath(), "linkage-devstack-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(dataDirectory);
        bool deleteDataDirectory = options.DataDirectory is null && !options.Persistent;

        var azuriteStart = StartServerAsync("Azurite", 3, nodeTools, ports =>
            ["azurite-launcher.mjs", "--location", Path.Combine(dataDirectory, "azurite"),
             "--blob-port", Invariant(ports[0]), "--queue-port", Invariant(ports[1]), "--table-port", Invariant(ports[2])],
            ports => [new($"{ServiceUri(ports[0])}?comp=list"), new($"{ServiceUri(ports[1])}?comp=list"), new($"{ServiceUri(ports[2])}/Tables")],
            options.StartupTimeout, ct);
        var cosmosStart = StartServerAsync("Cosmos DB stand-in", 1, nodeTools, ports =>
            options.Persistent
                ? ["cosmos-standin.mjs", "--port", Invariant(ports[0]), "--data-dir", Path.Combine(dataDirectory, "cosmos")]
                : ["cosmos-standin.mjs", "--port", Invariant(ports[0])],
            ports => [new($"http://127.0.0.1:{Invariant(ports[0])}/")],
            options.StartupTimeout, ct);

        try
        {
            await Task.WhenAll(azuriteStart, cosmosStart);
        }
        catch
        {
            await StopStartedAsync(azuriteStart);
            await StopStartedAsync(cosmosStart);
            throw;
        }

        var (azurite, azuritePorts) = azuriteStart.Result;
        var (cosmos, cosmosPorts) = cosmosStart.Result;
        var ports = new StackFile(azuritePorts[0], azuritePorts[1], azuritePorts[2], cosmosPorts[0],
            Environment.ProcessId, azurite.ProcessId, cosmos.ProcessId, dataDirectory);
        return new LocalStack(ports, reused: false, azurite, cosmos, deleteDataDirectory);
    }

    /// <summary>Writes the stack file so other processes can attach; it is deleted when this stack is disposed.</summary>
    public async Task PublishAsync(string stackFile, CancellationToken ct)
    {
        await Ports.WriteAsync(stackFile, ct);
        _publishedStackFile = stackFile;
    }

    /// <summary>The stack described by <paramref name="stackFile"/>, if that file exists and all four servers answer.</summary>
    public static async Task<LocalStack?> TryAttachAsync(string stackFile, CancellationToken ct)
    {
        if (await StackFile.TryReadAsync(stackFile, ct) is not { } ports)
        {
            return null;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        Uri[] probes =
        [
            new($"{ServiceUri(ports.BlobPort)}?comp=list"), new($"{ServiceUri(ports.QueuePort)}?comp=list"),
            new($"{ServiceUri(ports.TablePort)}/Tables"), new($"http://127.0.0.1:{Invariant(ports.CosmosPort)}/"),
        ];
        foreach (var probe in probes)
        {
            if (!await ServerProcess.AnswersAsync(http, probe, ct))
            {
                return null; // a stale file from a stack that died
            }
        }

        return new LocalStack(ports, reused: true, azurite: null, cosmos: null, deleteDataDirectory: false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1 || Reused)
        {
            return;
        }

        if (_publishedStackFile is not null)
        {
            File.Delete(_publishedStackFile);
        }

        await Task.WhenAll(_cosmos!.DisposeAsync().AsTask(), _azurite!.DisposeAsync().AsTask());
        if (_deleteDataDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // a temp folder left behind is harmless; the OS cleans temp
            }
        }
    }

    private static async Task<LocalStack> StartSharedAsync()
    {
        var stack = await StartAsync(LocalStackOptions.ForTests(), CancellationToken.None);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => stack.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(15));
        return stack;
    }

    private static async Task<(ServerProcess Server, int[] Ports)> StartServerAsync(
        string name, int portCount, string nodeTools, Func<int[], string[]> command, Func<int[], Uri[]> probes,
        TimeSpan timeout, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            int[] ports = FreePorts.Take(portCount);
            string[] args = command(ports);
            var server = ServerProcess.Start(name, nodeTools, args[0], args[1..]);
            try
            {
                await server.WaitUntilAnsweringAsync(probes(ports), timeout, ct);
                return (server, ports);
            }
            catch (ServerStartException ex) when (ex.PortWasTaken && attempt < 3)
            {
                await server.DisposeAsync(); // another process took a port between choosing and binding it
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task StopStartedAsync(Task<(ServerProcess Server, int[] Ports)> start)
    {
        try
        {
            await (await start).Server.DisposeAsync();
        }
        catch (Exception)
        {
            // that server failed to start and was already stopped; the first failure is the one reported
        }
    }

    private static Uri ServiceUri(int port) => new($"http://127.0.0.1:{Invariant(port)}/{AccountName}");

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
