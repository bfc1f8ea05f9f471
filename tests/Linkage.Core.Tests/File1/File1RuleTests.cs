using Linkage.File1;

namespace Linkage.Core.Tests.File1;

/// <summary>The bad-file corpus, part 2: each value and participant rule violated once.</summary>
public class File1RuleTests
{
    private static File1CheckReport CheckOneBadRow(string field, string value, File1CheckOptions? options = null) =>
        new File1TestFile().WithHeader().Row("P1").Row("P2", overrides: (field, value)).Check(options);

    [Fact]
    public void Participant_without_a_current_row_is_an_error_at_its_first_line()
    {
        var report = new File1TestFile().WithHeader().Row("P1").Row("P2", "H").Row("P2", "H").Row("P3").Check();
        Assert.False(report.Accepted);
        var finding = report.Single("participant-no-current-row");
        Assert.Equal([3L], finding.Lines);
        Assert.Equal(1, finding.Count);
        Assert.Equal(3, report.Participants);
    }

    [Fact]
    public void Participant_with_several_current_rows_is_an_error_at_the_extra_rows()
    {
        var report = new File1TestFile().WithHeader().Row("P1").Row("P2").Row("P1", "H").Row("P1").Row("P1").Check();
        var finding = report.Single("participant-several-current-rows");
        Assert.Equal([5L, 6L], finding.Lines);
        Assert.Equal(2, report.Participants);
    }

    [Fact]
    public void Participants_without_current_rows_list_the_lowest_lines_and_count_all()
    {
        var file = new File1TestFile().WithHeader();
        for (int i = 0; i < 50; i++)
        {
            file.Row($"P{i}", "H");
        }

        var finding = file.Check().Single("participant-no-current-row");
        Assert.Equal(50, finding.Count);
        Assert.Equal(Enumerable.Range(2, 20).Select(i => (long)i), finding.Lines);
    }

    [Theory]
    [InlineData("ROW_STATUS", "X")]
    [InlineData("ROW_STATUS", "c")]
    [InlineData("GENDER_CD", "3")]
    [InlineData("GENDER_CD", "")]
    [InlineData("UKLLC_STATUS", "2")]
    [InlineData("NHS_E_Linkage_Permission", "Y")]
    [InlineData("NHS_S_Linkage_Permission", "")]
    [InlineData("NHS_W_Linkage_Permission", "9")]
    [InlineData("NHS_NI_Linkage_Permission", "11")]
    [InlineData("Geocoding_Permission", "3")]
    [InlineData("Small_Area_Permission", "2")]
    [InlineData("Environment_Permission", " 1")]
    [InlineData("Property_Level_Permission", "-1")]
    [InlineData("Multiple_Birth", "2")]
    [InlineData("National_Opt_Out", "9")]
    [InlineData("DFE_Linkage_Permission", "yes")]
    [InlineData("DWP_Linkage_Permission", "2")]
    [InlineData("HMRC_Linkage_Permission", "true")]
    public void Value_outside_its_code_list_is_an_error(string field, string value)
    {
        var report = CheckOneBadRow(field, value);
        Assert.False(report.Accepted);
        var finding = report.Single("code-invalid", field);
        Assert.Equal([3L], finding.Lines);
        Assert.Contains(field, finding.Message);
        Assert.Contains("allowed:", finding.Message);
    }

    [Theory]
    [InlineData("GENDER_CD", "7")]
    [InlineData("GENDER_CD", "8")]
    [InlineData("GENDER_CD", "9")]
    [InlineData("Geocoding_Permission", "0")]
    [InlineData("Multiple_Birth", "9")]
    [InlineData("UKLLC_STATUS", "0")]
    public void Values_in_the_code_lists_are_accepted(string field, string value) =>
        Assert.True(CheckOneBadRow(field, value).Accepted);

    [Theory]
    [InlineData("STUDY_ID", 51)]
    [InlineData("SURNAME", 256)]
    [InlineData("FORENAME", 256)]
    [InlineData("MIDDLENAMES", 256)]
    [InlineData("ADDRESS_3", 256)]
    [InlineData("ADDRESS_5", 256)]
    [InlineData("NHS_Digital_Study_Number", 51)]
    [InlineData("NHS_S_Study_Number", 51)]
    [InlineData("NHS_NI_Study_Number", 51)]
    public void Over_long_values_are_errors(string field, int length)
    {
        Assert.True(CheckOneBadRow(field, new string('a', length - 1)).Accepted);
        var report = CheckOneBadRow(field, new string('a', length));
        Assert.Equal([3L], report.Single("value-too-long", field).Lines);
    }

    [Fact]
    public void Over_long_postcode_is_an_error_and_an_odd_shape()
    {
        var report = CheckOneBadRow("POSTCODE", "AB12 3CDE");
        report.Single("value-too-long", "POSTCODE");
        report.Single("postcode-format");
    }

    [Fact]
    public void Length_limits_count_characters_not_bytes()
    {
        Assert.True(CheckOneBadRow("SURNAME", new string('é', 255)).Accepted);
        Assert.False(CheckOneBadRow("SURNAME", new string('é', 256)).Accepted);
    }

    [Theory]
    [InlineData("943 476 5919", "nhs-number-not-digits")]
    [InlineData("943476591X", "nhs-number-not-digits")]
    [InlineData("94347659190", "nhs-number-length")]
    [InlineData("943476591", "nhs-number-length")]
    [InlineData("9434765918", "nhs-number-check-digit")]
    [InlineData("1234567890", "nhs-number-check-digit")] // remainder 10: no valid number starts 123456789
    public void Bad_nhs_numbers_are_errors_and_never_quoted(string nhs, string code)
    {
        var report = CheckOneBadRow("NHS_NUMBER", nhs);
        var finding = report.Single(code, "NHS_NUMBER");
        Assert.Equal([3L], finding.Lines);
        Assert.DoesNotContain(nhs, File1CheckReportJson.ToJson(report));
    }

    [Fact]
    public void Empty_nhs_number_is_allowed()
    {
        Assert.True(CheckOneBadRow("NHS_NUMBER", "").Accepted);
        Assert.True(CheckOneBadRow("NHS_NUMBER", File1TestFile.ValidNhs2).Accepted);
    }

    [Theory]
    [InlineData("DATE_OF_BIRTH", "1/6/1990", "date-format")]
    [InlineData("DATE_OF_BIRTH", "1990-06-15", "date-format")]
    [InlineData("DATE_OF_BIRTH", "15/06/90", "date-format")]
    [InlineData("DATE_OF_BIRTH", "31/02/1990", "date-invalid")]
    [InlineData("DATE_OF_BIRTH", "29/02/2023", "date-invalid")]
    [InlineData("DATE_OF_BIRTH", "15/13/1990", "date-invalid")]
    [InlineData("DATE_OF_BIRTH", "00/06/1990", "date-unknown-part")]
    [InlineData("DATE_OF_BIRTH", "01/01/2027", "date-in-future")]
    [InlineData("ADDRESS_START_DATE", "32/01/2010", "date-invalid")]
    [InlineData("ADDRESS_START_DATE", "15/00/2010", "date-invalid")]
    [InlineData("ADDRESS_START_DATE", "00/00/0000", "date-unknown-part")]
    [InlineData("ADDRESS_START_DATE", "01/01/0000", "date-invalid")]
    [InlineData("ADDRESS_START_DATE", "01/01/2030", "address-date-in-future")]
    [InlineData("ADDRESS_END_DATE", "31/04/2012", "date-invalid")]
    [InlineData("ADDRESS_END_DATE", "2012", "date-format")]
    [InlineData("ADDRESS_END_DATE", "01/01/2005", "address-dates-reversed")]
    [InlineData("CREATE_DATE", "", "value-required")]
    [InlineData("CREATE_DATE", "00/03/2026", "date-unknown-part")]
    [InlineData("CREATE_DATE", "30/02/2026", "date-invalid")]
    [InlineData("CREATE_DATE", "01/04/2026", "date-in-future")]
    public void Bad_dates_are_found(string field, string value, string code)
    {
        var report = CheckOneBadRow(field, value);
        Assert.Equal([3L], report.Single(code, field).Lines);
    }

    [Theory]
    [InlineData("DATE_OF_BIRTH", "")]
    [InlineData("DATE_OF_BIRTH", "29/02/2024")]
    [InlineData("DATE_OF_BIRTH", "01/06/1990")]
    [InlineData("ADDRESS_START_DATE", "")]
    [InlineData("ADDRESS_START_DATE", "00/06/2010")]
    [InlineData("ADDRESS_START_DATE", "00/00/2010")]
    [InlineData("ADDRESS_END_DATE", "00/00/0000")]
    [InlineData("ADDRESS_END_DATE", "00/05/2015")]
    [InlineData("ADDRESS_END_DATE", "31/12/2015")]
    public void Dates_following_the_conventions_are_accepted(string field, string value)
    {
        var report = CheckOneBadRow(field, value);
        Assert.True(report.Accepted, string.Join("; ", report.Findings.Select(f => $"{f.Code}/{f.Field}")));
        Assert.Empty(report.Findings);
    }

    [Theory]
    [InlineData("A9 9AA", "B1 1AA")]
    [InlineData("A99 9AA", "M60 1NW")]
    [InlineData("AA9 9AA", "CR2 6XH")]
    [InlineData("AA99 9AA", "DN55 1PT")]
    [InlineData("A9A 9AA", "W1A 1HQ")]
    [InlineData("AA9A 9AA", "EC1A 1BB")]
    public void Each_uk_postcode_shape_is_accepted(string shape, string postcode)
    {
        Assert.True(UkPostcode.IsWellFormed(postcode), shape);
        Assert.Empty(CheckOneBadRow("POSTCODE", postcode).Findings);
    }

    [Theory]
    [InlineData("bs8 1th")]
    [InlineData("BS81TH")]
    [InlineData("BS8  1TH")]
    [InlineData("BS8 1T")]
    [InlineData("9S8 1TH")]
    [InlineData("BSS8 1TH")]
    [InlineData("B 1TH")]
    public void Odd_postcodes_are_warnings_not_errors(string postcode)
    {
        Assert.False(UkPostcode.IsWellFormed(postcode));
        var report = CheckOneBadRow("POSTCODE", postcode);
        Assert.True(report.Accepted);
        var finding = report.Single("postcode-format", "POSTCODE");
        Assert.Equal(File1Severity.Warning, finding.Severity);
        Assert.DoesNotContain(postcode, File1CheckReportJson.ToJson(report));
    }

    [Theory]
    [InlineData("SURNAME", "=HYPERLINK(\"\"http://x\"\")")]
    [InlineData("FORENAME", "+44")]
    [InlineData("MIDDLENAMES", "-1")]
    [InlineData("ADDRESS_1", "@SUM(A1)")]
    [InlineData("ADDRESS_4", "\tTown")]
    public void Formula_injection_is_a_warning_saying_the_ttp_neutralises_it(string field, string value)
    {
        string raw = value.Contains('"', StringComparison.Ordinal) ? $"\"{value}\"" : value;
        var report = CheckOneBadRow(field, raw);
        Assert.True(report.Accepted);
        var finding = report.Single("formula-injection", field);
        Assert.Equal(File1Severity.Warning, finding.Severity);
        Assert.Equal([3L], finding.Lines);
        Assert.Contains("trusted third party neutralises", finding.Message);
    }

    [Fact]
    public void Empty_study_id_is_an_error()
    {
        var report = CheckOneBadRow("STUDY_ID", "");
        Assert.Equal([3L], report.Single("value-required", "STUDY_ID").Lines);
    }

    [Fact]
    public void Study_id_with_surrounding_spaces_is_an_error()
    {
        var report = CheckOneBadRow("STUDY_ID", " P2");
        Assert.Equal([3L], report.Single("study-id-whitespace").Lines);
    }

    [Fact]
    public void Rows_of_one_participant_with_different_flags_are_a_warning()
    {
        var report = new File1TestFile().WithHeader()
            .Row("P1").Row("P1", "H", ("NHS_E_Linkage_Permission", "0")).Row("P2").Check();
        Assert.True(report.Accepted);
        Assert.Equal([3L], report.Single("participant-permissions-differ").Lines);
    }

    [Fact]
    public void First_file_with_a_withdrawn_participant_is_rejected()
    {
        var file = new File1TestFile().WithHeader().Row("P1").Row("P2", overrides: ("UKLLC_STATUS", "0"));
        Assert.True(file.Check().Accepted);
        var report = file.Check(File1TestFile.Options() with { IsFirstFile = true });
        Assert.False(report.Accepted);
        Assert.Equal([3L], report.Single("first-file-withdrawn", "UKLLC_STATUS").Lines);
    }

    [Fact]
    public void A_version_older_than_the_last_accepted_one_is_refused_but_the_same_version_may_be_resent()
    {
        var file = new File1TestFile().WithHeader().Row("P1"); // file name version 3
        var older = file.Check(File1TestFile.Options() with { LatestAcceptedVersion = 4 });
        Assert.False(older.Accepted);
        Assert.Equal("file-version-superseded", Assert.Single(older.Findings, f => f.Severity == File1Severity.Error).Code);
        Assert.True(file.Check(File1TestFile.Options() with { LatestAcceptedVersion = 3 }).Accepted);
        Assert.True(file.Check(File1TestFile.Options() with { LatestAcceptedVersion = 2 }).Accepted);
    }

    [Fact]
    public void A_version_already_accepted_under_another_date_is_refused_but_the_same_name_may_be_resent()
    {
        var file = new File1TestFile().WithHeader().Row("P1"); // ALSPAC_FILE1_v3_20260301.csv
        var renamed = file.Check(File1TestFile.Options() with { LatestAcceptedVersion = 3, AcceptedNameOfThisVersion = "ALSPAC_FILE1_v3_20260215.csv" });
        Assert.False(renamed.Accepted);
        Assert.Equal("file-version-renamed", Assert.Single(renamed.Findings, f => f.Severity == File1Severity.Error).Code);
        Assert.True(file.Check(File1TestFile.Options() with { LatestAcceptedVersion = 3, AcceptedNameOfThisVersion = "ALSPAC_FILE1_v3_20260301.csv" }).Accepted);
    }

    [Fact]
    public void Varying_create_date_and_mismatch_with_the_file_name_are_warnings()
    {
        var report = new File1TestFile().WithHeader()
            .Row("P1", overrides: ("CREATE_DATE", "02/03/2026")).Row("P2").Check();
        Assert.True(report.Accepted);
        Assert.Equal([2L], report.Single("create-date-file-name-mismatch").Lines);
        Assert.Equal([3L], report.Single("create-date-varies").Lines);
    }

    [Fact]
    public void Repeated_findings_are_grouped_with_capped_lines_and_a_full_count()
    {
        var file = new File1TestFile().WithHeader();
        for (int i = 0; i < 30; i++)
        {
            file.Row($"P{i}", overrides: [("NHS_NUMBER", "9434765918"), ("GENDER_CD", "X")]);
        }

        var report = file.Check();
        var nhs = report.Single("nhs-number-check-digit");
        Assert.Equal(30, nhs.Count);
        Assert.Equal(Enumerable.Range(2, 20).Select(i => (long)i), nhs.Lines);
        Assert.Equal(30, report.Single("code-invalid", "GENDER_CD").Count);
        Assert.Equal(60, report.ErrorCount);
    }

    [Fact]
    public void All_findings_are_collected_not_just_the_first()
    {
        var report = new File1TestFile().WithHeader()
            .Row("P1", overrides: [("NHS_NUMBER", "12"), ("DATE_OF_BIRTH", "x"), ("GENDER_CD", "5"), ("POSTCODE", "zz")])
            .Row("P2", "H")
            .Check(File1TestFile.Options("bad-name.csv"));
        report.OnlyFindings("nhs-number-length", "date-format", "code-invalid", "postcode-format",
            "participant-no-current-row", "file-name-pattern");
        Assert.Equal(File1Severity.Error, report.Findings[0].Severity);
    }

    [Fact]
    public void No_identifier_value_reaches_the_report()
    {
        string[] identifiers = ["STUDYX-77", "9434765918", "Zebedee", "Quentin", "Xylophone Road", "ZZ9 9ZZZ", "31/02/1950"];
        var report = new File1TestFile().WithHeader()
            .Row("STUDYX-77", "H", [("NHS_NUMBER", "9434765918"), ("SURNAME", "=Zebedee"), ("FORENAME", "Quentin" + new string('q', 300)),
                ("ADDRESS_1", "Xylophone Road\"x"), ("POSTCODE", "ZZ9 9ZZZ"), ("DATE_OF_BIRTH", "31/02/1950")])
            .Row("STUDYX-77", "X", [("NHS_NUMBER", "9434765918")])
            .Check();
        Assert.False(report.Accepted);
        string json = File1CheckReportJson.ToJson(report);
        foreach (string identifier in identifiers)
        {
            Assert.DoesNotContain(identifier, json, StringComparison.OrdinalIgnoreCase);
        }
    }
}
