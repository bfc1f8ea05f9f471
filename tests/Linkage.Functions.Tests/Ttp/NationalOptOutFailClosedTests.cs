using Linkage.File1;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>
/// An s251 study's File 1 waits, with a clear operator message, whenever the national opt-out list is unusable:
/// malformed, empty or too old. Nothing is written meanwhile. A study with no s251 participant is not held up.
/// </summary>
public sealed class NationalOptOutFailClosedTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private static string Header => string.Join(',', File1Schema.FieldNames);

    private static string File(string s251) => string.Join('\n',
        Header,
        $"NCD0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,{s251},0,0,0") + "\n";

    [Theory]
    [InlineData("NHS_NUMBER\n943 476 5919\n", "line 2 is not 10 digits", "NSHD46", "NSH0001")]
    [InlineData("NHS_NUMBER\n", "is empty", "TWINSUK", "TWN0001")]
    [InlineData("", "is empty", "GENSCOT", "GEN0001")]
    public async Task An_unusable_list_holds_s251_files_and_says_why(string list, string reason, string otherStudy, string otherId)
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        await blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, list);
        var (blob, etag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "NCDS58/NCDS58_FILE1_v1_20250101.csv", File(s251: "1"));

        var e = await Assert.ThrowsAsync<NationalOptOutListMissingException>(() => intake.ProcessAsync(blob, etag, CancellationToken.None));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("9434765919", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("943 476 5919", e.Message, StringComparison.Ordinal);
        Assert.True((await blob.ExistsAsync()).Value, "the delivery stays in the inbox for its next attempt");
        Assert.Null(await app.Services.GetRequiredService<File1VersionStore>().GetAsync("NCDS58", File1VersionStore.IdFor("NCDS58", 1), CancellationToken.None));
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        Assert.False((await outbox.ExistsAsync()).Value && (await outbox.ListNamesAsync()).Any(n => n.Contains("NCDS58", StringComparison.Ordinal)));

        // A study without s251 participants does not need the list.
        // (A study and participant of its own per case: the same bytes delivered again to one study would be "Unchanged".)
        var (other, otherETag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, $"{otherStudy}/{otherStudy}_FILE1_v1_20250101.csv", File(s251: "0").Replace("NCD0001", otherId, StringComparison.Ordinal));
        Assert.Equal("Accepted", (await intake.ProcessAsync(other, otherETag, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task The_same_bytes_are_unchanged_under_the_same_list_and_a_revision_under_a_newer_one()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        const string name = "ELSA/ELSA_FILE1_v1_20250101.csv";
        string file = File(s251: "1").Replace("NCD0001", "ELS0001", StringComparison.Ordinal);
        await blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, "NHS_NUMBER\n4010232137\n");
        var first = await intake.DeliverAsync(blobs, name, file);
        Assert.Equal("Accepted", first.Outcome);

        var same = await intake.DeliverAsync(blobs, name, file);
        Assert.Equal(("Unchanged", 0), (same.Outcome, same.Record.Revision));

        // The participant opts out nationally: the same bytes now make different outputs, so they are not "unchanged".
        await blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, "NHS_NUMBER\n4010232137\n9434765919\n");
        var revised = await intake.DeliverAsync(blobs, name, file);
        Assert.Equal(("Accepted", 1), (revised.Outcome, revised.Record.Revision));
        Assert.NotEqual(first.Record.OptOutList, revised.Record.OptOutList);
        Assert.Equal(first.Record.SourceSha256, revised.Record.SourceSha256);
    }

    [Fact]
    public async Task A_list_older_than_the_configured_age_holds_s251_files()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["File1:NationalOptOutMaxAgeDays"] = "0.0001" }); // ~8.6 s
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        await blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, "NHS_NUMBER\n4010232137\n");
        var (blob, etag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "NICOLA/NICOLA_FILE1_v1_20250101.csv", File(s251: "1").Replace("NCD0001", "NIC0001", StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<NationalOptOutListMissingException>(() => intake.ProcessAsync(blob, etag, CancellationToken.None));
        Assert.Contains("more than the 0 days allowed (File1:NationalOptOutMaxAgeDays)", e.Message, StringComparison.Ordinal);

        // A fresh upload of the list lets it through.
        await blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, "NHS_NUMBER\n4010232137\n");
        Assert.Equal("Accepted", (await intake.ProcessAsync(blob, etag, CancellationToken.None)).Outcome);
    }
}
