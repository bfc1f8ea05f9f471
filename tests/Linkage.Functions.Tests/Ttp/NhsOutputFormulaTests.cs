using Linkage.File1;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>A field the checker only warns about can still start a formula: the NHS Output neutralises every provider-typed field.</summary>
public sealed class NhsOutputFormulaTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    [Fact]
    public async Task Postcodes_and_names_that_start_a_formula_are_written_as_text()
    {
        string file = string.Join('\n',
            string.Join(',', File1Schema.FieldNames),
            "AIR0001,C,9434765919,=SUM(A1),ANNA,,1 HIGH ST,,,,,=1+2,01/01/2000,,01/02/1970,2,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0",
            "AIR0002,C,4010232137,JONES,BEN,,2 HIGH ST,,,,,@A1,01/01/2000,,01/02/1971,1,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,0,0,0,0") + "\n";
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var result = await app.Services.GetRequiredService<File1IntakeService>().DeliverAsync(stack.CreateBlobServiceClient(), "AIRWAVE/AIRWAVE_FILE1_v1_20250101.csv", file);

        Assert.Equal("Accepted", result.Outcome);
        var rows = (await stack.CreateBlobServiceClient().DownloadTextAsync(result.Record.Outputs["nhsOutput"])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(rows.Any(r => r.Contains(",'=SUM(A1),", StringComparison.Ordinal) && r.Contains(",'=1+2,", StringComparison.Ordinal)), string.Join("\n", rows));
        Assert.Contains(rows, r => r.Contains(",'@A1,", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Split(',').Any(f => f.Length > 0 && f[0] is '=' or '+' or '@'));
    }
}
