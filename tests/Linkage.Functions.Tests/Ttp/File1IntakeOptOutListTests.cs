using Linkage.File1;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>An s251 study's File 1 is never processed without the national opt-out list: nobody opted out reaches NHS England.</summary>
public sealed class File1IntakeOptOutListTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private static string Header => string.Join(',', File1Schema.FieldNames);

    /// <summary>One participant on an s251 basis (National_Opt_Out = 1), whose NHS number is on the opt-out list below.</summary>
    private static string S251File => string.Join('\n',
        Header,
        "NCD0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,1,0,0,0") + "\n";

    [Fact]
    public async Task A_file_with_s251_participants_waits_for_the_list_and_then_leaves_opted_out_people_out()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();
        var config = blobs.GetBlobContainerClient(TtpStorage.Config);
        await config.CreateIfNotExistsAsync();
        await config.GetBlobClient(TtpStorage.NationalOptOutBlob).DeleteIfExistsAsync();
        var blob = inbox.GetBlobClient("NCDS58/NCDS58_FILE1_v1_20250101.csv");
        var etag = (await blob.UploadAsync(BinaryData.FromString(S251File), overwrite: true)).Value.ETag;

        await Assert.ThrowsAsync<NationalOptOutListMissingException>(() => intake.ProcessAsync(blob, etag, CancellationToken.None));

        // Nothing went out and nothing was recorded; the delivery is still in the inbox for its next attempt.
        var outbox = blobs.GetBlobContainerClient(TtpStorage.NhseOutbox);
        Assert.False((await outbox.ExistsAsync()).Value && (await outbox.ListNamesAsync()).Any(n => n.Contains("NCDS58", StringComparison.Ordinal)));
        Assert.Null(await app.Services.GetRequiredService<File1VersionStore>().GetAsync("NCDS58", File1VersionStore.IdFor("NCDS58", 1), CancellationToken.None));
        Assert.True((await blob.ExistsAsync()).Value);

        await config.GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(BinaryData.FromString("NHS_NUMBER\n9434765919\n"), overwrite: true);
        var result = await intake.ProcessAsync(blob, etag, CancellationToken.None);

        Assert.Equal("Accepted", result.Outcome);
        string nhsOutput = await blobs.DownloadTextAsync(result.Record.Outputs["nhsOutput"]);
        Assert.DoesNotContain("9434765919", nhsOutput, StringComparison.Ordinal);
    }
}
