using Azure.Storage.Blobs;
using Linkage.Azure.Cosmos;
using Linkage.File1;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>
/// Cross-study links hold only while both studies' current rows support them: a person who leaves a study, or whose NHS
/// number is corrected, is unlinked when that study's next File 1 is accepted.
/// </summary>
public sealed class File1CrossStudyLinkTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private static string Header => string.Join(',', File1Schema.FieldNames);

    private static string Row(string studyId, string nhs, string dob, string created) =>
        $"{studyId},C,{nhs},SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,{dob},2,{created},1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0";

    private static string File(params string[] rows) => string.Join('\n', [Header, .. rows]) + "\n";

    [Fact]
    public async Task A_person_who_leaves_a_study_or_whose_nhs_number_is_corrected_is_unlinked()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        const string anna = "9434765919", ben = "4010232137", cara = "9990000018";
        Assert.Equal("Accepted", (await intake.DeliverAsync(blobs, "BIB/BIB_FILE1_v1_20250101.csv", File(
            Row("B1", anna, "01/02/1970", "01/01/2025"), Row("B2", ben, "01/02/1971", "01/01/2025"), Row("B3", cara, "01/02/1972", "01/01/2025")))).Outcome);
        var mcs = await intake.DeliverAsync(blobs, "MCS/MCS_FILE1_v1_20250101.csv", File(
            Row("M1", anna, "01/02/1970", "01/01/2025"), Row("M2", ben, "01/02/1971", "01/01/2025"), Row("M3", cara, "01/02/1972", "01/01/2025")));
        Assert.Equal(3, mcs.Record.Counts["crossStudyLinks"]);
        Assert.Equal(3, (await LinksAsync(app)).Count);

        // BIB v2: B1 has left; B3's NHS number was wrong and is corrected to one MCS does not have.
        var v2 = await intake.DeliverAsync(blobs, "BIB/BIB_FILE1_v2_20250401.csv", File(
            Row("B2", ben, "01/02/1971", "01/04/2025"), Row("B3", "4010232145", "01/02/1972", "01/04/2025")));

        Assert.Equal("Accepted", v2.Outcome);
        Assert.Equal(2, v2.Record.Counts["crossStudyLinksRemoved"]);
        var links = await LinksAsync(app);
        var left = Assert.Single(links);
        Assert.Equal(["BIB", "MCS"], left.Members.Select(m => m.Study).Order());

        // MCS v2 with the same people: its own pairs are unchanged, so nothing is removed.
        var again = await intake.DeliverAsync(blobs, "MCS/MCS_FILE1_v2_20250401.csv", File(
            Row("M1", anna, "01/02/1970", "01/04/2025"), Row("M2", ben, "01/02/1971", "01/04/2025"), Row("M3", cara, "01/02/1972", "01/04/2025")));
        Assert.Equal(0, again.Record.Counts["crossStudyLinksRemoved"]);
        Assert.Single(await LinksAsync(app));
    }

    private static async Task<List<CrossStudyLink>> LinksAsync(FunctionAppFactory app)
    {
        var container = await app.Services.GetRequiredService<CosmosDatabase>().ContainerAsync(CrossStudyLinker.LinksContainerId, "/id", CancellationToken.None);
        var all = new List<CrossStudyLink>();
        using var query = container.GetItemQueryIterator<CrossStudyLink>("SELECT * FROM c");
        while (query.HasMoreResults)
        {
            all.AddRange(await query.ReadNextAsync());
        }

        return all;
    }
}
