using Azure;
using Azure.Storage.Blobs;
using Linkage.File1;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Permissions;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>
/// A study's File 1 versions apply in order, whatever the deliveries do: a renamed copy of a version, a stale file
/// arriving after an interrupted newer one, and two files of one study arriving together never roll permissions back.
/// The intake is called directly (the local host runs with its listeners off), as a delivery workflow's activity calls it.
/// </summary>
public sealed class File1IntakeOrderingTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private static string Header => string.Join(',', File1Schema.FieldNames);

    /// <summary>Two participants; P1's UKLLC status and NHS England permission vary.</summary>
    private static string File(string prefix, string created, string p1Status, string p1NhsE) => string.Join('\n',
        Header,
        $"{prefix}0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,{created},{p1Status},{p1NhsE},9,0,9,0,0,9,1,1,0,0,0,0,0,0,0",
        $"{prefix}0002,C,4010232137,JONES,BEN,,2 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1971,1,{created},1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0") + "\n";

    [Fact]
    public async Task A_version_resent_under_another_date_is_refused_and_file2_keeps_the_accepted_permissions()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "EPIC/EPIC_FILE1_v1_20250101.csv", File("EPI", "01/01/2025", "1", "1"))).Outcome);
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "EPIC/EPIC_FILE1_v2_20250401.csv", File("EPI", "01/04/2025", "0", "1"))).Outcome);

        // A re-export of v2 two weeks later, in which P1 is active again: it must come as v3, not as a second v2.
        var renamed = await intake.DeliverAsync(blobs, "EPIC/EPIC_FILE1_v2_20250415.csv", File("EPI", "15/04/2025", "1", "1"));

        Assert.Equal("Rejected", renamed.Outcome);
        Assert.Contains(renamed.Report!.Findings, f => f.Code == "file-version-renamed");
        var set = await app.Services.GetRequiredService<PermissionSnapshotSource>().LoadLatestAsync(CancellationToken.None);
        Assert.True(set.TryGetFlags((await TokenAsync(app, "EPIC", "EPI0001")).AsSpan(), out var flags));
        Assert.False(flags.HasFlag(PermissionFlags.Active), "P1 withdrew in the accepted v2");
        var outbox = await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).ListNamesAsync();
        Assert.DoesNotContain(outbox, n => n.Contains("_v2_20250415", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stale_file_after_an_interrupted_newer_one_does_not_roll_a_withdrawal_back()
    {
        // v2 withdraws P1; its run stops after the commit, once the registry has it (fault injected once).
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["Faults:At"] = File1Steps.RegistryApplied });
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        string v1 = File("TED", "01/01/2025", "1", "1");
        var (b1, e1) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "TEDS/TEDS_FILE1_v1_20250101.csv", v1);
        await Assert.ThrowsAsync<InjectedFaultException>(() => intake.ProcessAsync(b1, e1, CancellationToken.None));
        Assert.Equal("Accepted", (await intake.ProcessAsync(b1, e1, CancellationToken.None)).Outcome); // rolled forward by its retry
        var (b2, e2) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "TEDS/TEDS_FILE1_v2_20250401.csv", File("TED", "01/04/2025", "0", "1"));
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        Assert.Equal("Accepted", (await intake.ProcessAsync(b2, e2, CancellationToken.None)).Outcome);

        // Quarter 1's file arrives again (a new blob version): it is refused as superseded, and v2's withdrawal stands.
        var stale = await intake.DeliverAsync(blobs, "TEDS/TEDS_FILE1_v1_20250101.csv", v1 + "\n");
        Assert.Equal("Rejected", stale.Outcome);
        Assert.Equal(File1VersionState.Accepted, (await versions.GetAsync("TEDS", File1VersionStore.IdFor("TEDS", 2), CancellationToken.None))!.State);
        string p1 = await TokenAsync(app, "TEDS", "TED0001");
        var registry = app.Services.GetRequiredService<ParticipantRegistry>();
        var page = await registry.GetPageAsync("TEDS", (int)(TokenBytes.Parse(p1).High >> 56), CancellationToken.None);
        Assert.False(((PermissionFlags)page!.Participants[p1].Flags).HasFlag(PermissionFlags.Active), "the withdrawal in v2 stands");
    }

    [Fact]
    public async Task A_committed_version_interrupted_while_publishing_is_finished_by_the_next_run_of_its_study()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["Faults:At"] = File1Steps.Committed });
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        var (b1, e1) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "FENLAND/FENLAND_FILE1_v1_20250101.csv", File("FEN", "01/01/2025", "1", "1"));
        await Assert.ThrowsAsync<InjectedFaultException>(() => intake.ProcessAsync(b1, e1, CancellationToken.None));

        // Committed, not yet published: the processor sees nothing of it yet.
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        Assert.Equal(File1VersionState.Committed, (await versions.GetAsync("FENLAND", File1VersionStore.IdFor("FENLAND", 1), CancellationToken.None))!.State);
        Assert.Null(await app.Services.GetRequiredService<PermissionSnapshotSource>().GetManifestAsync("FENLAND", CancellationToken.None));

        // v2 arrives before v1's retry: its run finishes v1 first, so v2's delta is against v1.
        var v2 = await intake.DeliverAsync(blobs, "FENLAND/FENLAND_FILE1_v2_20250401.csv", File("FEN", "01/04/2025", "0", "1"));
        Assert.Equal("Accepted", v2.Outcome);
        Assert.Equal(File1VersionState.Accepted, (await versions.GetAsync("FENLAND", File1VersionStore.IdFor("FENLAND", 1), CancellationToken.None))!.State);
        Assert.Contains("withdrawn", await blobs.DownloadTextAsync(v2.Record.Outputs["delta"]), StringComparison.Ordinal);
        Assert.Equal(2, (await app.Services.GetRequiredService<PermissionSnapshotSource>().GetManifestAsync("FENLAND", CancellationToken.None))!.Version);
        Assert.Equal("AlreadyProcessed", (await intake.ProcessAsync(b1, e1, CancellationToken.None)).Outcome);
        Assert.False((await b1.ExistsAsync()).Value, "v1 was archived by the run that finished it");
    }

    [Fact]
    public async Task An_interrupted_version_refused_on_its_retry_leaves_no_outputs_behind()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["Faults:At"] = File1Steps.Staged });
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        await Assert.ThrowsAsync<InjectedFaultException>(() => intake.DeliverAsync(blobs, "GLAD/GLAD_FILE1_v1_20250101.csv", File("GLA", "01/01/2025", "1", "0")));
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "GLAD/GLAD_FILE1_v1_20250101.csv", File("GLA", "01/01/2025", "1", "0"))).Outcome);

        // v2 turns P1's NHS England permission on and stops after staging its outputs, before its commit.
        using var fault = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["Faults:At"] = File1Steps.Staged });
        var (b2, e2) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "GLAD/GLAD_FILE1_v2_20250401.csv", File("GLA", "01/04/2025", "1", "1"));
        await Assert.ThrowsAsync<InjectedFaultException>(() => fault.Services.GetRequiredService<File1IntakeService>().ProcessAsync(b2, e2, CancellationToken.None));
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        Assert.Contains(await outbox.ListNamesAsync(), n => n.Contains("GLAD_NHSOUT_v2_", StringComparison.Ordinal));
        Assert.Equal(1, (await app.Services.GetRequiredService<PermissionSnapshotSource>().GetManifestAsync("GLAD", CancellationToken.None))!.Version);

        // v3 is accepted before v2 is retried: its run withdraws what v2 staged; the retry is refused as superseded.
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "GLAD/GLAD_FILE1_v3_20250701.csv", File("GLA", "01/07/2025", "1", "0"))).Outcome);
        Assert.DoesNotContain(await outbox.ListNamesAsync(), n => n.Contains("_v2_", StringComparison.Ordinal) && n.Contains("GLAD", StringComparison.Ordinal));
        var retry = await intake.ProcessAsync(b2, e2, CancellationToken.None);

        Assert.Equal("Rejected", retry.Outcome);
        Assert.DoesNotContain(await outbox.ListNamesAsync(), n => n.Contains("_v2_", StringComparison.Ordinal) && n.Contains("GLAD", StringComparison.Ordinal));
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).ListNamesAsync(), n => n.Contains("GLAD_", StringComparison.Ordinal) && n.Contains("_v2_", StringComparison.Ordinal));
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.Registry).ListNamesAsync(), n => n.Contains("GLAD", StringComparison.Ordinal) && n.Contains("_v2_", StringComparison.Ordinal));
        Assert.Contains(await outbox.ListNamesAsync(), n => n.Contains("GLAD_NHSOUT_v3_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_registry_keeps_the_version_a_participant_joined_with_and_records_each_change()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "SABRE/SABRE_FILE1_v1_20250101.csv", File("SAB", "01/01/2025", "1", "1"))).Outcome);
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "SABRE/SABRE_FILE1_v2_20250401.csv", File("SAB", "01/04/2025", "1", "0"))).Outcome);
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "SABRE/SABRE_FILE1_v3_20250701.csv", File("SAB", "01/07/2025", "0", "0"))).Outcome);

        string p1 = await TokenAsync(app, "SABRE", "SAB0001");
        var page = await app.Services.GetRequiredService<ParticipantRegistry>().GetPageAsync("SABRE", (int)(TokenBytes.Parse(p1).High >> 56), CancellationToken.None);

        Assert.Equal(1, page!.Participants[p1].Since);
        Assert.False(((PermissionFlags)page.Participants[p1].Flags).HasFlag(PermissionFlags.Active));
        Assert.Equal([2, 3], page.History.Where(c => c.Token == p1).Select(c => c.Version));
    }

    [Fact]
    public async Task Two_files_of_one_study_arriving_together_are_processed_one_after_the_other()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "MCS/MCS_FILE1_v1_20250101.csv", File("MCS", "01/01/2025", "1", "1"))).Outcome);
        var (b2, e2) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "MCS/MCS_FILE1_v2_20250401.csv", File("MCS", "01/04/2025", "1", "0"));
        var (b3, e3) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "MCS/MCS_FILE1_v3_20250701.csv", File("MCS", "01/07/2025", "1", "1"));

        var results = await Task.WhenAll(intake.ProcessAsync(b3, e3, CancellationToken.None), intake.ProcessAsync(b2, e2, CancellationToken.None));

        // Either v2 went first (both accepted, v3 compared with v2) or v3 did (v2 then refused as superseded); never
        // both accepted with v3 compared with v1, which would hide v2's opt-out and its reversal from NHS England.
        var (v3, v2) = (results[0], results[1]);
        Assert.Equal("Accepted", v3.Outcome);
        if (v2.Outcome == "Accepted")
        {
            Assert.True(v2.Record.ProcessedAt <= v3.Record.ProcessedAt);
            Assert.Equal(1, v3.Record.Counts["deltaRows"]); // P1's NHS England permission back on, against v2
        }
        else
        {
            Assert.Contains(v2.Report!.Findings, f => f.Code == "file-version-superseded");
        }
    }

    private static async Task<string> TokenAsync(FunctionAppFactory app, string study, string studyId)
    {
        using var tokenizer = await app.Services.GetRequiredService<KeyRingProvider>().GetStudyIdTokenizerAsync(CancellationToken.None);
        return tokenizer.Tokenize(study, studyId);
    }
}
