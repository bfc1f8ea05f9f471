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

        // Delta: every withdrawal between the quarters of someone within NHS England's reach (linkage permitted before or
        // now), by token; nothing NHS England does not act on (seed 001): no joiners, no absences, no other permissions.
        var q1Input = File1Facts.Read(Directory.GetFiles(Path.Combine(_synthDir, "file1", alspac), $"{alspac}_FILE1_v1_*.csv").Single());
        var now = input.Current.ToDictionary(c => c.StudyId);
        var allWithdrawals = q1Input.Current.Where(c => c.Active && now.TryGetValue(c.StudyId, out var n) && !n.Active).ToList();
        var expectedWithdrawals = allWithdrawals.Where(c => c.NhsE || now[c.StudyId].NhsE).Select(c => tokenizer.Tokenize(alspac, c.StudyId)).ToHashSet();
        Assert.NotEmpty(expectedWithdrawals);
        var delta = await blobs.ReadLinesAsync(q2.Outputs["delta"]);
        var rows = delta.Skip(1).Select(l => l.Split(',')).ToList();
        var withdrawals = rows.Where(f => f[1] == "withdrawn").Select(f => f[0]).ToHashSet();
        Assert.Equal(expectedWithdrawals.OrderBy(x => x), withdrawals.OrderBy(x => x));
        Assert.All(rows, f => Assert.Contains(f[1], new[] { "withdrawn", "rejoined", "permission-on", "permission-off" }));
        Assert.All(rows, f => Assert.Contains(f[2], new[] { "ukllc_status", "nhs_e_linkage", "national_opt_out_applies" }));
        Assert.Equal(allWithdrawals.Count, q2.Counts["withdrawals"]); // every withdrawal is counted, told or not

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

        await AssertNoIdentifierOutsideTtpZone(app.Logs, app.TaskHub);
    }

    /// <summary>
    /// Every spelling of every identifier of the File 1s (<see cref="IdentifierScan"/>) searched for everywhere outside the
    /// TTP zone (<see cref="LeakScan"/>), and — more than the policy asks, as the design stands today — in the TTP-only
    /// Cosmos containers too: the registry and the links hold tokens, flags and keyed hashes only.
    /// </summary>
    private async Task AssertNoIdentifierOutsideTtpZone(CapturingLoggerProvider logs, string taskHub)
    {
        var scan = IdentifierScan.FromFile1s(Directory.GetFiles(Path.Combine(_synthDir, "file1"), "*.csv", SearchOption.AllDirectories));
        Assert.True(scan.Count > 5000, "the scan needs identifiers to look for");

        // The app is still running: queue messages are peeked, not received.
        var report = await LeakScan.ScanAsync(scan, stack.Stack, logs, new LeakScanOptions { IncludeTtpCosmosContainers = true, ReceiveQueueMessages = false });
        Assert.Contains(report.Places, s => s.StartsWith($"blob {TtpStorage.ProcessorInbox}/id-mapping/", StringComparison.Ordinal));
        Assert.Contains(report.Places, s => s.StartsWith($"blob {TtpStorage.ProcessorInbox}/permissions/", StringComparison.Ordinal));
        Assert.Contains(report.Places, s => s.StartsWith($"blob {taskHub.ToLowerInvariant()}-", StringComparison.Ordinal)); // the Durable Task hub's blobs
        Assert.True(report.Count("table entities") > 20, "the hub's history must have been scanned");
        Assert.Contains(report.Places, s => s.StartsWith($"cosmos linkage/{ParticipantRegistry.ContainerId} ", StringComparison.Ordinal));
        Assert.True(report.Count("cosmos documents") > 0);
        report.AssertClean();
    }
}
