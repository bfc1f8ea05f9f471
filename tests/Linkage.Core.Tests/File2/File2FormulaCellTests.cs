using Linkage.File2;
using Linkage.Text;

namespace Linkage.Core.Tests.File2;

/// <summary>
/// Curated CSVs are opened in spreadsheets: a text cell starting a formula is neutralised with the NHS Output's rule
/// (<see cref="SpreadsheetFormula"/>), while numbers of a numeric column keep their sign (decision 0603).
/// </summary>
public sealed class File2FormulaCellTests : IDisposable
{
    private const string Header = "patient_key_e,event_start_date,event_end_date,service_type,delivery_mechanism,age_at_event,gender,weekly_cost,ward_code,client_address\n";
    private readonly File2World _world = new();
    private readonly DatasetSpec _spec = DatasetSpecLoader.LoadFile(Path.Combine(File2World.RepoRoot, "tests/Linkage.Core.Tests/File2/Specs/londonsde_asc_client_level.json"));

    public void Dispose() => _world.Dispose();

    [Theory]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("+1+1", "'+1+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("=1,2", "\"'=1,2\"")]
    [InlineData("Direct payment", "Direct payment")]
    [InlineData("a=b", "a=b")]
    public async Task A_text_cell_that_starts_a_formula_is_written_neutralised(string value, string written)
    {
        string field = value.Contains('"', StringComparison.Ordinal) || value.Contains(',', StringComparison.Ordinal) ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
        var (result, output) = await _world.RunAsync(_spec, Header + $"{_world.Permitted},03/04/2024,,LTS,{field},67,F,412.50,,\n");

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal($"{_world.TreId(_world.Permitted)},2024-04,,LTS,{written},60-69,F,412.50,\n", output.Split('\n', 2)[1]);
    }

    [Theory]
    [InlineData("-1.5")]
    [InlineData("-412")]
    [InlineData("+3.25")]
    public async Task A_signed_number_in_a_decimal_column_stays_a_number(string cost)
    {
        var (result, output) = await _world.RunAsync(_spec, Header + $"{_world.Permitted},03/04/2024,,LTS,Direct payment,67,F,{cost},,\n");

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal($"{_world.TreId(_world.Permitted)},2024-04,,LTS,Direct payment,60-69,F,{cost},\n", output.Split('\n', 2)[1]);
    }

    [Fact]
    public void The_rule_is_the_nhs_outputs_rule()
    {
        Assert.All(new[] { "=", "+", "-", "@", "\t", "\r" }, p => Assert.True(SpreadsheetFormula.StartsFormula(p + "x")));
        Assert.False(SpreadsheetFormula.StartsFormula("x=1"));
        Assert.False(SpreadsheetFormula.StartsFormula(""));
        var line = new StringWriter();
        new Linkage.Ttp.CsvLine().AddText("=cmd").Add("-token").WriteTo(line);
        Assert.Equal("'=cmd,-token\n", line.ToString());
    }
}
