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
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        string v1 = File("TED", "01/01/2025", "1", "1");
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "TEDS/TEDS_FILE1_v1_20250101.csv", v1)).Outcome);

        // v2 withdraws P1 and is interrupted after the registry step (an unreadable link index of another study makes
        // cross-study linking fail), so no record says v2 was accepted.
        var registryBlobs = blobs.GetBlobContainerClient(TtpStorage.Registry);
        await registryBlobs.GetBlobClient("links/ZZBROKEN.links").UploadAsync(BinaryData.FromString("not a link index"), overwrite: true);
        var (b2, e2) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "TEDS/TEDS_FILE1_v2_20250401.csv", File("TED", "01/04/2025", "0", "1"));
        await Assert.ThrowsAnyAsync<Exception>(() => intake.ProcessAsync(b2, e2, CancellationToken.None));
        await registryBlobs.GetBlobClient("links/ZZBROKEN.links").DeleteAsync();

        // Quarter 1's file arrives again before v2's retry; then v2 is retried.
        await intake.DeliverAsync(blobs, "TEDS/TEDS_FILE1_v1_20250101.csv", v1);
        var retry = await intake.ProcessAsync(b2, e2, CancellationToken.None);

        Assert.Equal("Accepted", retry.Outcome);
        string p1 = await TokenAsync(app, "TEDS", "TED0001");
        var registry = app.Services.GetRequiredService<ParticipantRegistry>();
        var page = await registry.GetPageAsync("TEDS", (int)(TokenBytes.Parse(p1).High >> 56), CancellationToken.None);
        Assert.False(((PermissionFlags)page!.Participants[p1].Flags).HasFlag(PermissionFlags.Active), "the withdrawal in v2 stands");
    }

    [Fact]
    public async Task An_interrupted_version_refused_on_its_retry_leaves_no_outputs_behind()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "GLAD/GLAD_FILE1_v1_20250101.csv", File("GLA", "01/01/2025", "1", "0"))).Outcome);

        // v2 turns P1's NHS England permission on and is interrupted after writing its outputs.
        var registryBlobs = blobs.GetBlobContainerClient(TtpStorage.Registry);
        await registryBlobs.GetBlobClient("links/ZZBROKEN2.links").UploadAsync(BinaryData.FromString("not a link index"), overwrite: true);
        var (b2, e2) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "GLAD/GLAD_FILE1_v2_20250401.csv", File("GLA", "01/04/2025", "1", "1"));
        await Assert.ThrowsAnyAsync<Exception>(() => intake.ProcessAsync(b2, e2, CancellationToken.None));
        await registryBlobs.GetBlobClient("links/ZZBROKEN2.links").DeleteAsync();
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        Assert.Contains(await outbox.ListNamesAsync(), n => n.Contains("GLAD_NHSOUT_v2_", StringComparison.Ordinal));

        // v3 is accepted before v2 is retried; the retry is refused as superseded and withdraws what v2 wrote.
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "GLAD/GLAD_FILE1_v3_20250701.csv", File("GLA", "01/07/2025", "1", "0"))).Outcome);
        var retry = await intake.ProcessAsync(b2, e2, CancellationToken.None);

        Assert.Equal("Rejected", retry.Outcome);
        Assert.DoesNotContain(await outbox.ListNamesAsync(), n => n.Contains("_v2_", StringComparison.Ordinal) && n.Contains("GLAD", StringComparison.Ordinal));
        Assert.DoesNotContain(await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).ListNamesAsync(), n => n.Contains("GLAD_", StringComparison.Ordinal) && n.Contains("_v2_", StringComparison.Ordinal));
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
