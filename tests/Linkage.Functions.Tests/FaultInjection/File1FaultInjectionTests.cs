using Azure;
using Azure.Storage.Blobs;
using Linkage.Azure.Cosmos;
using Linkage.File1;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.FaultInjection;

/// <summary>
/// File 1 intake stopped at each step of its commit protocol, then run again: the final state — every blob of every
/// TTP and processor-inbox container, every document of the TTP's Cosmos containers — equals an uninterrupted run's,
/// and until the commit nothing of the interrupted file is in force (the manifests still name the previous version).
/// </summary>
public sealed class File1FaultInjectionTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IAsyncLifetime
{
    private const string Database = "linkage";
    private static readonly string[] Containers =
    [
        TtpStorage.File1Inbox, TtpStorage.File1Archive, TtpStorage.File1Quarantine, TtpStorage.ProviderReports,
        TtpStorage.NhseOutbox, TtpStorage.Registry, TtpStorage.ProcessorInbox,
    ];

    private static readonly string[] CosmosContainers = [File1VersionStore.ContainerId, ParticipantRegistry.ContainerId, CrossStudyLinker.LinksContainerId];

    private static string Header => string.Join(',', File1Schema.FieldNames);

    private CosmosClient _cosmos = null!;
    private BlobServiceClient _blobs = null!;

    public static TheoryData<string> Steps => new(File1Steps.All);

    public Task InitializeAsync()
    {
        _cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        _blobs = stack.CreateBlobServiceClient();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _cosmos.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task Stopped_at_a_step_and_run_again_ends_as_an_uninterrupted_run(string step)
    {
        var expected = await RunAsync(faults: null, retries: 0);
        var actual = await RunAsync(new() { ["Faults:At"] = step }, retries: 1);
        StoreState.AssertSame(expected, actual, $"stopped at {step}");
    }

    [Fact]
    public async Task Stopped_twice_at_the_same_step_ends_as_an_uninterrupted_run()
    {
        var expected = await RunAsync(faults: null, retries: 0);
        var actual = await RunAsync(new() { ["Faults:At"] = File1Steps.Staged, ["Faults:Times"] = "2" }, retries: 2);
        StoreState.AssertSame(expected, actual, "stopped twice after staging");
    }

    [Fact]
    public async Task Stopped_during_the_retry_of_a_stopped_run_ends_as_an_uninterrupted_run()
    {
        var expected = await RunAsync(faults: null, retries: 0);
        var actual = await RunAsync(new() { ["Faults:At"] = $"{File1Steps.Staged},{File1Steps.Linked}" }, retries: 2);
        StoreState.AssertSame(expected, actual, "stopped after staging, then its retry after linking");
    }

    [Fact]
    public async Task Two_hosts_running_the_same_delivery_at_once_end_as_one_run()
    {
        var expected = await RunAsync(faults: null, retries: 0);
        await using var other = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var actual = await RunAsync(faults: null, retries: 0, concurrent: other.Services.GetRequiredService<File1IntakeService>());
        StoreState.AssertSame(expected, actual, "two hosts at once");
    }

    /// <summary>
    /// From a clean slate: NSHD46 v1 and ELSA v1 (two people in both studies), then ELSA v2 (one withdraws, one leaves,
    /// one joins, a shared person's date of birth is corrected) under <paramref name="faults"/>, re-run after each stop.
    /// </summary>
    private async Task<SortedDictionary<string, string>> RunAsync(Dictionary<string, string?>? faults, int retries, File1IntakeService? concurrent = null)
    {
        await StoreState.WipeAsync(_blobs, _cosmos, Database, Containers, CosmosContainers);
        await _blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, "NHS_NUMBER\n9434765919\n");
        var etags = new Dictionary<string, string>();
        await using (var clean = new FunctionAppFactory(stack.Stack, "ServicesOnly"))
        {
            var intake = clean.Services.GetRequiredService<File1IntakeService>();
            etags[await DeliverAsync(intake, "NSHD46/NSHD46_FILE1_v1_20250101.csv", Nshd("01/01/2025"))] = "etag-nshd-v1";
            etags[await DeliverAsync(intake, "ELSA/ELSA_FILE1_v1_20250101.csv", ElsaV1)] = "etag-elsa-v1";
        }

        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: faults);
        var faulty = app.Services.GetRequiredService<File1IntakeService>();
        var (blob, etag) = await _blobs.PutTextAsync(TtpStorage.File1Inbox, "ELSA/ELSA_FILE1_v2_20250401.csv", ElsaV2);
        etags[etag.ToString().Trim('"')] = "etag-elsa-v2";
        var manifests = app.Services.GetRequiredService<PermissionSnapshotSource>();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        for (int attempt = 0; attempt <= retries; attempt++)
        {
            if (attempt < retries)
            {
                var fault = await Assert.ThrowsAsync<InjectedFaultException>(() => faulty.ProcessAsync(blob, etag, CancellationToken.None));
                var record = await versions.GetAsync("ELSA", File1VersionStore.IdFor("ELSA", 2), CancellationToken.None);
                var manifest = await manifests.GetManifestAsync("ELSA", CancellationToken.None);
                bool committed = Array.IndexOf(File1Steps.All.ToArray(), fault.Step) >= Array.IndexOf(File1Steps.All.ToArray(), File1Steps.Committed);
                bool published = Array.IndexOf(File1Steps.All.ToArray(), fault.Step) >= Array.IndexOf(File1Steps.All.ToArray(), File1Steps.ManifestsPublished);
                Assert.Equal(committed, record is not null && record.IsCommitted);
                Assert.Equal(published ? 2 : 1, manifest!.Version); // nothing of v2 is in force before its commit and publish
            }
            else if (concurrent is not null)
            {
                var both = await Task.WhenAll(faulty.ProcessAsync(blob, etag, CancellationToken.None), concurrent.ProcessAsync(blob, etag, CancellationToken.None));
                Assert.Contains(both, r => r.Outcome == "Accepted");
                Assert.Contains(both, r => r.Outcome == "AlreadyProcessed");
            }
            else
            {
                var result = await faulty.ProcessAsync(blob, etag, CancellationToken.None);
                Assert.Equal(File1VersionState.Accepted, result.Record.State);
            }
        }

        return await StoreState.CaptureAsync(_blobs, _cosmos, Database, Containers, CosmosContainers, etags);
    }

    private async Task<string> DeliverAsync(File1IntakeService intake, string name, string content)
    {
        var (blob, etag) = await _blobs.PutTextAsync(TtpStorage.File1Inbox, name, content);
        Assert.Equal("Accepted", (await intake.ProcessAsync(blob, etag, CancellationToken.None)).Outcome);
        return etag.ToString().Trim('"');
    }

    private static string Row(string id, string nhs, string surname, string dob, string created, string status = "1", string nhsE = "1", string s251 = "0") =>
        $"{id},C,{nhs},{surname},ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,{dob},2,{created},{status},{nhsE},9,0,9,0,0,9,1,1,0,0,0,{s251},0,0,0";

    private static string Nshd(string created) => string.Join('\n',
        Header,
        Row("NSH0001", "4010232137", "JONES", "01/02/1971", created),
        Row("NSH0002", "9434765919", "SMITH", "01/02/1970", created),
        Row("NSH0003", "9990000018", "BROWN", "03/03/1972", created)) + "\n";

    private static string ElsaV1 => string.Join('\n',
        Header,
        Row("ELS0001", "4010232137", "JONES", "01/02/1971", "01/01/2025"),
        Row("ELS0002", "9434765919", "SMITH", "01/02/1970", "01/01/2025", s251: "1"),
        Row("ELS0003", "9990000026", "GREEN", "04/04/1973", "01/01/2025"),
        Row("ELS0004", "9990000034", "WHITE", "05/05/1974", "01/01/2025")) + "\n";

    /// <summary>ELS0001 withdraws, ELS0003 leaves, ELS0005 joins, ELS0004 turns NHS England linkage off.</summary>
    private static string ElsaV2 => string.Join('\n',
        Header,
        Row("ELS0001", "4010232137", "JONES", "01/02/1971", "01/04/2025", status: "0"),
        Row("ELS0002", "9434765919", "SMITH", "01/02/1970", "01/04/2025", s251: "1"),
        Row("ELS0004", "9990000034", "WHITE", "05/05/1974", "01/04/2025", nhsE: "0"),
        Row("ELS0005", "9990000042", "BLACK", "06/06/1975", "01/04/2025")) + "\n";
}
