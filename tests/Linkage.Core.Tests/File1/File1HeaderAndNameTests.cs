using Linkage.File1;

namespace Linkage.Core.Tests.File1;

/// <summary>The bad-file corpus, part 3: header and file-name rules.</summary>
public class File1HeaderAndNameTests
{
    private static string HeaderWith(Func<List<string>, List<string>> change) =>
        string.Join(",", change([.. File1Schema.FieldNames]));

    [Fact]
    public void Missing_header_is_read_positionally_with_a_warning()
    {
        var report = new File1TestFile().Row("P1").Row("P1", "H").Row("P2", overrides: ("NHS_NUMBER", "1")).Check();
        var warning = report.Single("header-missing");
        Assert.Equal(File1Severity.Warning, warning.Severity);
        Assert.Equal(3, report.Rows);
        Assert.Equal(2, report.Participants);
        Assert.Equal([3L], report.Single("nhs-number-length").Lines);
    }

    [Fact]
    public void Misordered_header_is_an_error_and_values_are_still_checked_by_name()
    {
        string header = HeaderWith(h => { (h[2], h[3]) = (h[3], h[2]); return h; });
        var values = File1TestFile.DefaultValues("P1", "C");
        (values[2], values[3]) = ("Jones", "9434765918");
        var report = new File1TestFile().Line(header).Line(string.Join(",", values)).Check();

        var order = report.Single("header-field-order");
        Assert.Equal([1L], order.Lines);
        Assert.Contains("NHS_NUMBER", order.Message);
        // NHS_NUMBER was found in column 4 by its name, so its check digit was checked there.
        Assert.Equal([2L], report.Single("nhs-number-check-digit").Lines);
    }

    [Fact]
    public void Missing_field_in_the_header_is_an_error_naming_it()
    {
        string header = HeaderWith(h => { h.RemoveAt(19); return h; });
        var values = File1TestFile.DefaultValues("P1", "C").ToList();
        values.RemoveAt(19);
        var report = new File1TestFile().Line(header).Line(string.Join(",", values)).Check();

        Assert.False(report.Accepted);
        Assert.Contains("NHS_Digital_Study_Number", report.Single("header-field-missing").Message);
        report.HasNo("header-field-order");
        report.HasNo("csv-field-count");
    }

    [Fact]
    public void Extra_and_duplicate_fields_in_the_header_are_errors()
    {
        string header = HeaderWith(h => { h.Add("EMAIL"); h.Add("SURNAME"); return h; });
        var values = File1TestFile.DefaultValues("P1", "C").Concat(["x", "y"]);
        var report = new File1TestFile().Line(header).Line(string.Join(",", values)).Check();

        Assert.Contains("EMAIL", report.Single("header-field-unexpected").Message);
        Assert.Contains("SURNAME", report.Single("header-field-duplicate").Message);
        report.HasNo("csv-field-count");
    }

    [Fact]
    public void Header_differing_only_in_case_is_a_warning()
    {
        string header = HeaderWith(h => { h[18] = h[18].ToUpperInvariant(); return h; });
        var report = new File1TestFile().Line(header).Row("P1").Check();
        Assert.True(report.Accepted);
        Assert.Contains("NHS_E_Linkage_Permission", report.Single("header-field-case").Message);
    }

    [Fact]
    public void Header_names_with_surrounding_spaces_are_a_warning_naming_them()
    {
        string header = HeaderWith(h => { h[2] = " " + h[2] + " "; h[18] = h[18] + "\t"; return h; });
        var report = new File1TestFile().Line(header).Row("P1").Check();

        Assert.True(report.Accepted);
        string message = report.Single("header-field-spaces").Message;
        Assert.Contains("NHS_NUMBER", message);
        Assert.Contains("NHS_E_Linkage_Permission", message);
        Assert.DoesNotContain("SURNAME", message);
        report.HasNo("header-field-case");
    }

    [Theory]
    [InlineData("ALSPAC_FILE1_v3_20260301.csv", "ALSPAC", 3, 2026, 3, 1)]
    [InlineData("NIHRBIO_COPING_FILE1_v12_20251231.csv", "NIHRBIO_COPING", 12, 2025, 12, 31)]
    [InlineData("/some/dir/BCS70_FILE1_v1_20240229.csv", "BCS70", 1, 2024, 2, 29)]
    [InlineData("UKHLS_FILE1_v007_20260101.csv", "UKHLS", 7, 2026, 1, 1)]
    public void Well_formed_file_names_parse(string name, string study, int version, int y, int m, int d)
    {
        Assert.True(File1FileName.TryParse(name, out var s, out var v, out var date));
        Assert.Equal(study, s);
        Assert.Equal(version, v);
        Assert.Equal(new DateOnly(y, m, d), date);
    }

    [Theory]
    [InlineData("ALSPAC_FILE1_v3_20260301.txt")]
    [InlineData("ALSPAC_FILE1_v3_20260301.CSV")]
    [InlineData("alspac_FILE1_v3_20260301.csv")]
    [InlineData("ALSPAC_FILE1_3_20260301.csv")]
    [InlineData("ALSPAC_FILE1_v0_20260301.csv")]
    [InlineData("ALSPAC_FILE1_v000_20260301.csv")]
    [InlineData("ALSPAC_FILE1_v-1_20260301.csv")]
    [InlineData("ALSPAC_FILE1_vx_20260301.csv")]
    [InlineData("ALSPAC_FILE1_v3_2026031.csv")]
    [InlineData("ALSPAC_FILE1_v3_20260230.csv")]
    [InlineData("ALSPAC_FILE2_v3_20260301.csv")]
    [InlineData("_FILE1_v3_20260301.csv")]
    [InlineData("ALSPAC FILE1 v3 20260301.csv")]
    [InlineData("file1.csv")]
    public void Bad_file_names_are_rejected(string name)
    {
        Assert.False(File1FileName.TryParse(name, out _, out _, out _));
        var report = new File1TestFile().WithHeader().Row("P1").Check(File1TestFile.Options(name));
        Assert.False(report.Accepted);
        report.OnlyFindings("file-name-pattern");
        Assert.Null(report.StudyCode);
    }

    [Fact]
    public void Unknown_study_code_is_rejected_unless_configured()
    {
        var file = new File1TestFile().WithHeader().Row("P1", overrides: ("CREATE_DATE", "01/03/2026"));
        var report = file.Check(File1TestFile.Options("NEWSTUDY_FILE1_v1_20260301.csv"));
        report.OnlyFindings("file-name-unknown-study");

        var configured = File1TestFile.Options("NEWSTUDY_FILE1_v1_20260301.csv") with
        {
            KnownStudyCodes = [.. File1CheckOptions.DefaultKnownStudyCodes, "NEWSTUDY"],
        };
        Assert.True(file.Check(configured).Accepted);
    }

    [Fact]
    public void Study_code_not_matching_the_uploading_provider_is_rejected()
    {
        var file = new File1TestFile().WithHeader().Row("P1");
        Assert.True(file.Check(File1TestFile.Options() with { ExpectedStudyCode = "ALSPAC" }).Accepted);
        var report = file.Check(File1TestFile.Options() with { ExpectedStudyCode = "UKHLS" });
        Assert.False(report.Accepted);
        report.OnlyFindings("file-name-study-mismatch");
    }

    [Fact]
    public void Without_a_file_name_the_naming_rules_are_skipped()
    {
        var report = new File1TestFile().WithHeader().Row("P1").Check(File1TestFile.Options(null));
        Assert.True(report.Accepted);
        Assert.Null(report.FileName);
    }
}

public class File1HeaderDetectionTests
{
    [Fact]
    public void Data_line_holding_a_field_name_as_a_value_is_not_taken_for_a_header()
    {
        var report = new File1TestFile().Row("P1", overrides: [("SURNAME", "Postcode"), ("FORENAME", "Surname")]).Check();
        report.OnlyFindings("header-missing");
        Assert.Equal(1, report.Rows);
        Assert.DoesNotContain("Jones", File1CheckReportJson.ToJson(report));
    }

    [Fact]
    public void Header_with_a_trailing_comma_reports_an_empty_column_name()
    {
        var report = new File1TestFile().Line(File1TestFile.Header + ",").Line(File1TestFile.RowText("P1") + ",").Check();
        Assert.Contains("(an empty name)", report.Single("header-field-unexpected").Message);
        report.HasNo("csv-field-count");
    }
}
