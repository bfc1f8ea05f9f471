using System.CommandLine;
using System.Text;
using System.Text.Json;
using Linkage.Cli.File1;

namespace Linkage.Cli.Tests.File1;

/// <summary>`linkage file1 check` run in-process through System.CommandLine, with output captured.</summary>
public sealed class File1CheckCommandTests : IDisposable
{
    private const string Header =
        "STUDY_ID,ROW_STATUS,NHS_NUMBER,SURNAME,FORENAME,MIDDLENAMES,ADDRESS_1,ADDRESS_2,ADDRESS_3,ADDRESS_4,ADDRESS_5," +
        "POSTCODE,ADDRESS_START_DATE,ADDRESS_END_DATE,DATE_OF_BIRTH,GENDER_CD,CREATE_DATE,UKLLC_STATUS," +
        "NHS_E_Linkage_Permission,NHS_Digital_Study_Number,NHS_S_Linkage_Permission,NHS_S_Study_Number," +
        "NHS_W_Linkage_Permission,NHS_NI_Linkage_Permission,NHS_NI_Study_Number,Geocoding_Permission," +
        "Small_Area_Permission,Environment_Permission,Property_Level_Permission,Multiple_Birth,National_Opt_Out," +
        "DFE_Linkage_Permission,DWP_Linkage_Permission,HMRC_Linkage_Permission";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("file1-check-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static string Row(string id, string status, string nhs = "9434765919", string ukllc = "1") =>
        $"{id},{status},{nhs},Jones,Anne,,\"1, High St\",,,Bristol,,BS8 1TH,01/01/2010,{(status == "C" ? "" : "00/00/0000")}," +
        $"15/06/1990,2,01/03/2025,{ukllc},1,9,1,9,1,0,9,2,1,1,0,0,0,1,1,1";

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(File1Command.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Valid_file_exits_0_with_a_summary()
    {
        string path = Write("ALSPAC_FILE1_v2_20250301.csv", Header, Row("A1", "C"), Row("A1", "H"), Row("A2", "C"));
        var (exit, output, _) = await Run("file1", "check", path);

        Assert.Equal(0, exit);
        Assert.Contains("ALSPAC_FILE1_v2_20250301.csv: ACCEPTED", output);
        Assert.Contains("3 rows (2 current, 1 historical), 2 participants", output);
    }

    [Fact]
    public async Task Rejected_file_exits_1_and_lists_findings_with_lines_but_no_values()
    {
        string path = Write("ALSPAC_FILE1_v2_20250301.csv", Header, Row("A1", "C"), Row("A2", "C", nhs: "9434765918"), Row("A2", "C"));
        var (exit, output, _) = await Run("file1", "check", path);

        Assert.Equal(1, exit);
        Assert.Contains("REJECTED", output);
        Assert.Contains("ERROR nhs-number-check-digit NHS_NUMBER", output);
        Assert.Contains("line 3 (1 in all)", output);
        Assert.Contains("ERROR participant-several-current-rows ROW_STATUS", output);
        Assert.DoesNotContain("9434765918", output);
    }

    [Fact]
    public async Task Json_report_has_the_documented_shape()
    {
        string path = Write("ALSPAC_FILE1_v2_20250301.csv", Header, Row("A1", "C"), Row("A1", "C"), Row("A2", "H"), "A3,C");
        var (exit, output, _) = await Run("file1", "check", path, "--json");

        Assert.Equal(1, exit);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("accepted").GetBoolean());
        Assert.Equal(4, root.GetProperty("rows").GetInt32());
        Assert.Equal(2, root.GetProperty("participants").GetInt32());
        Assert.Equal("ALSPAC", root.GetProperty("studyCode").GetString());
        Assert.Equal(2, root.GetProperty("version").GetInt32());
        Assert.Equal("2025-03-01", root.GetProperty("fileDate").GetString());
        var findings = root.GetProperty("findings").EnumerateArray().ToList();
        var fieldCount = findings.Single(f => f.GetProperty("code").GetString() == "csv-field-count");
        Assert.Equal("error", fieldCount.GetProperty("severity").GetString());
        Assert.Equal(JsonValueKind.Null, fieldCount.GetProperty("field").ValueKind);
        Assert.Equal([5], fieldCount.GetProperty("lines").EnumerateArray().Select(l => l.GetInt32()));
        Assert.Equal(1, fieldCount.GetProperty("count").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(fieldCount.GetProperty("message").GetString()));
        var several = findings.Single(f => f.GetProperty("code").GetString() == "participant-several-current-rows");
        Assert.Equal("ROW_STATUS", several.GetProperty("field").GetString());
        Assert.Equal([3], several.GetProperty("lines").EnumerateArray().Select(l => l.GetInt32()));
        Assert.Contains(findings, f => f.GetProperty("code").GetString() == "participant-no-current-row");
    }

    [Fact]
    public async Task Warnings_alone_still_exit_0()
    {
        string path = Write("ALSPAC_FILE1_v2_20250301.csv", Row("A1", "C"));
        var (exit, output, _) = await Run("file1", "check", path, "--json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output);
        var finding = Assert.Single(doc.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("header-missing", finding.GetProperty("code").GetString());
        Assert.Equal("warning", finding.GetProperty("severity").GetString());
    }

    [Fact]
    public async Task Missing_file_exits_2()
    {
        var (exit, output, error) = await Run("file1", "check", Path.Combine(_dir.FullName, "ALSPAC_FILE1_v1_20250301.csv"));
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("Cannot read", error);
    }

    [Fact]
    public async Task A_directory_is_unreadable()
    {
        var (exit, _, _) = await Run("file1", "check", _dir.FullName);
        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task Study_code_option_rejects_another_providers_file()
    {
        string path = Write("UKHLS_FILE1_v1_20250301.csv", Header, Row("U1", "C"));
        Assert.Equal(0, (await Run("file1", "check", path, "--study-code", "UKHLS")).Exit);
        var (exit, output, _) = await Run("file1", "check", path, "--study-code", "ALSPAC");
        Assert.Equal(1, exit);
        Assert.Contains("file-name-study-mismatch", output);
    }

    [Fact]
    public async Task First_file_option_rejects_withdrawn_participants()
    {
        string path = Write("ALSPAC_FILE1_v1_20250301.csv", Header, Row("A1", "C"), Row("A2", "C", ukllc: "0"));
        Assert.Equal(0, (await Run("file1", "check", path)).Exit);
        var (exit, output, _) = await Run("file1", "check", path, "--first-file");
        Assert.Equal(1, exit);
        Assert.Contains("first-file-withdrawn", output);
    }

    [Fact]
    public async Task Known_studies_option_replaces_the_default_list()
    {
        string path = Write("NEWCOHORT_FILE1_v1_20250301.csv", Header, Row("N1", "C"));
        Assert.Equal(1, (await Run("file1", "check", path)).Exit);
        Assert.Equal(0, (await Run("file1", "check", path, "--known-studies", "ALSPAC, NEWCOHORT")).Exit);
    }

    [Fact]
    public async Task Bad_file_name_is_rejected()
    {
        string path = Write("alspac-file1.csv", Header, Row("A1", "C"));
        var (exit, output, _) = await Run("file1", "check", path);
        Assert.Equal(1, exit);
        Assert.Contains("file-name-pattern", output);
    }
}
