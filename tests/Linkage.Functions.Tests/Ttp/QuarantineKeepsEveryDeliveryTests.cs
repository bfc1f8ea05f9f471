using Linkage.File1;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>A provider who sends a refused file again under the same name gets a second copy and a second report, never an overwrite.</summary>
public sealed class QuarantineKeepsEveryDeliveryTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    [Fact]
    public async Task Two_refused_deliveries_of_one_name_keep_both_copies_and_both_reports()
    {
        string header = string.Join(',', File1Schema.FieldNames);
        string bad(string nhs) => $"{header}\nEXC0001,C,{nhs},SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0,EXTRA\n";
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var blobs = stack.CreateBlobServiceClient();
        const string name = "EXCEED/EXCEED_FILE1_v1_20250101.csv";

        var first = await intake.DeliverAsync(blobs, name, bad("9434765919"));
        var second = await intake.DeliverAsync(blobs, name, bad("4010232137"));

        Assert.Equal(("Rejected", "Rejected"), (first.Outcome, second.Outcome));
        Assert.NotEqual(first.Record.Outputs["quarantined"], second.Record.Outputs["quarantined"]);
        Assert.NotEqual(first.Record.Outputs["report"], second.Record.Outputs["report"]);
        Assert.Contains("9434765919", await blobs.DownloadTextAsync(first.Record.Outputs["quarantined"]), StringComparison.Ordinal);
        Assert.Contains("4010232137", await blobs.DownloadTextAsync(second.Record.Outputs["quarantined"]), StringComparison.Ordinal);
        Assert.Equal(2, (await blobs.GetBlobContainerClient(TtpStorage.ProviderReports).ListNamesAsync()).Count(n => n.StartsWith("EXCEED/EXCEED_FILE1_v1_", StringComparison.Ordinal) && n.EndsWith(".report.json", StringComparison.Ordinal)));
        foreach (var r in new[] { first.Record, second.Record })
        {
            Assert.Equal(r.Outputs["quarantined"].Replace(TtpStorage.File1Quarantine, TtpStorage.ProviderReports, StringComparison.Ordinal) + ".report.json", r.Outputs["report"]);
            Assert.NotNull(await blobs.TryDownloadTextAsync(r.Outputs["report"]));
        }
    }
}
