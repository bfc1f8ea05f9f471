using Linkage.File1;
using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

public sealed class File1OutputTests(SynthOutputFixture output) : IClassFixture<SynthOutputFixture>
{
    private static readonly SynthOptions Options = SynthOutputFixture.Options;

    public static TheoryData<string, int> StudyQuarters()
    {
        var data = new TheoryData<string, int>();
        foreach (string study in Options.Studies)
        {
            for (int q = 1; q <= Options.Quarters; q++)
            {
                data.Add(study, q);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(StudyQuarters))]
    public void Has_the_exact_header_and_34_unquoted_fields_on_every_line(string study, int quarter)
    {
        string path = output.File1Path(study, quarter);
        Assert.Equal(File1Schema.FieldNames, CsvLines.Header(path));
        long rows = 0;
        foreach (string line in File.ReadLines(path))
        {
            Assert.DoesNotContain('"', line);
            Assert.Equal(File1Schema.FieldCount, line.Split(',').Length);
            rows++;
        }

        Assert.Equal(output.Manifest.Find($"file1/{study}/{Path.GetFileName(path)}")!.Rows, rows - 1);
    }

    [Theory]
    [MemberData(nameof(StudyQuarters))]
    public void Is_named_by_the_specification(string study, int quarter)
    {
        string name = Path.GetFileName(output.File1Path(study, quarter));
        Assert.True(File.Exists(output.File1Path(study, quarter)));
        Assert.Matches($"^{study}_FILE1_v{quarter}_20[0-9]{{6}}\\.csv$", name);
        Assert.True(File1FileName.TryParse(name, out string code, out int version, out DateOnly date));
        Assert.Equal((study, quarter, Options.FileDate(quarter)), (code, version, date));
    }

    [Theory]
    [MemberData(nameof(StudyQuarters))]
    public void Every_participant_has_exactly_one_current_row_and_stable_flags(string study, int quarter)
    {
        var current = new Dictionary<string, int>(StringComparer.Ordinal);
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        long historical = 0;
        foreach (var row in CsvLines.Rows(output.File1Path(study, quarter)))
        {
            string id = row[File1Schema.StudyId];
            current[id] = current.GetValueOrDefault(id) + (row[File1Schema.RowStatus] == "C" ? 1 : 0);
            historical += row[File1Schema.RowStatus] == "H" ? 1 : 0;
            Assert.Contains(row[File1Schema.RowStatus], new[] { "C", "H" });
            string permissionBlock = string.Join(',', row[File1Schema.UkllcStatus..]) + row[File1Schema.NhsNumber] + row[File1Schema.DateOfBirth];
            Assert.Equal(flags.GetValueOrDefault(id, permissionBlock), permissionBlock);
            flags[id] = permissionBlock;
        }

        Assert.Equal(Options.ParticipantsInQuarter(quarter), current.Count);
        Assert.All(current.Values, count => Assert.Equal(1, count));
        Assert.True(historical > Options.Participants / 3, "historical H rows are generated");
    }

    [Fact]
    public void Nhs_numbers_are_modulus_11_valid_except_the_configured_missing_and_invalid_shares()
    {
        long people = 0, missing = 0, invalid = 0;
        foreach (string study in Options.Studies)
        {
            foreach (var row in CsvLines.Rows(output.File1Path(study, 1)).Where(r => r[File1Schema.RowStatus] == "C"))
            {
                string nhs = row[File1Schema.NhsNumber];
                people++;
                if (nhs.Length == 0)
                {
                    missing++;
                    continue;
                }

                Assert.Equal(10, nhs.Length);
                Assert.True(NhsNumber.IsAllDigits(nhs));
                invalid += NhsNumber.IsValid(nhs) ? 0 : 1;
            }
        }

        Assert.InRange((double)missing / people, Options.MissingNhsShare * 0.7, Options.MissingNhsShare * 1.3);
        Assert.InRange((double)invalid / people, Options.InvalidNhsShare * 0.6, Options.InvalidNhsShare * 1.4);
    }

    [Fact]
    public void Postcodes_take_all_six_uk_shapes_and_only_those()
    {
        var shapes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in CsvLines.Rows(output.File1Path("ALSPAC", 1)))
        {
            string postcode = row[File1Schema.Postcode];
            Assert.True(UkPostcode.IsWellFormed(postcode));
            shapes.Add(string.Concat(postcode.Select(c => char.IsLetter(c) ? 'A' : char.IsDigit(c) ? '9' : c)));
        }

        Assert.Equal(SyntheticPostcodes.Shapes.Order(StringComparer.Ordinal), shapes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Dates_of_birth_and_address_dates_have_the_file1_forms()
    {
        int dayUnknownLike = 0, pastAddressUnknownEnd = 0, historicalWithEnd = 0;
        foreach (var row in CsvLines.Rows(output.File1Path("UKHLS", 1)))
        {
            string dob = row[File1Schema.DateOfBirth];
            Assert.Matches("^([0-3][0-9]/[01][0-9]/(19|20)[0-9]{2})?$", dob);
            dayUnknownLike += dob.StartsWith("01/", StringComparison.Ordinal) ? 1 : 0;
            Assert.Matches("^((00|[0-3][0-9])/(00|[01][0-9])/(19|20)[0-9]{2})?$", row[File1Schema.AddressStartDate]);
            string end = row[File1Schema.AddressEndDate];
            if (row[File1Schema.RowStatus] == "C")
            {
                Assert.Equal(string.Empty, end);
            }
            else if (end.Length > 0)
            {
                historicalWithEnd++;
                pastAddressUnknownEnd += end == "00/00/0000" ? 1 : 0;
            }
        }

        // About 1 in 30 have only month and year (day written 01) on top of the 1 in 30 really born on the 1st.
        Assert.True(dayUnknownLike > Options.Participants / 25);
        Assert.True(historicalWithEnd > 100);
        Assert.True(pastAddressUnknownEnd > 0);
    }

    [Theory]
    [InlineData("ALSPAC")]
    [InlineData("UKHLS")]
    [InlineData("BCS70")]
    public void A_studys_first_file1_has_every_participant_active(string study)
    {
        Assert.All(CsvLines.Rows(output.File1Path(study, 1)), row => Assert.Equal("1", row[File1Schema.UkllcStatus]));
    }

    [Theory]
    [InlineData("ALSPAC", 2)]
    [InlineData("UKHLS", 2)]
    [InlineData("BCS70", 3)]
    public void A_later_quarter_has_withdrawals_opt_outs_opt_ins_and_new_participants(string study, int quarter)
    {
        var before = CurrentRows(output.File1Path(study, quarter - 1));
        var after = CurrentRows(output.File1Path(study, quarter));
        int withdrawn = 0, optOuts = 0, optIns = 0, rejoined = 0;
        foreach (var (id, row) in before)
        {
            Assert.True(after.ContainsKey(id), "every participant stays in every later File 1");
            var later = after[id];
            withdrawn += row[File1Schema.UkllcStatus] == "1" && later[File1Schema.UkllcStatus] == "0" ? 1 : 0;
            rejoined += row[File1Schema.UkllcStatus] == "0" && later[File1Schema.UkllcStatus] == "1" ? 1 : 0;
            optOuts += row[File1Schema.NhsELinkagePermission] == "1" && later[File1Schema.NhsELinkagePermission] == "0" ? 1 : 0;
            optIns += row[File1Schema.NhsELinkagePermission] == "0" && later[File1Schema.NhsELinkagePermission] == "1" ? 1 : 0;
        }

        Assert.InRange(withdrawn, Options.Participants / 100, Options.Participants / 25);
        Assert.Equal(0, rejoined);
        Assert.True(optOuts > 10, $"{optOuts} NHS England opt-outs");
        Assert.True(optIns > 5, $"{optIns} NHS England opt-ins");
        var newcomers = after.Keys.Except(before.Keys).ToList();
        Assert.Equal(Options.NewParticipantsPerQuarter, newcomers.Count);
        Assert.All(newcomers, id => Assert.Equal("1", after[id][File1Schema.UkllcStatus]));

        var record = output.Manifest.Find($"file1/{study}/{Path.GetFileName(output.File1Path(study, quarter))}")!;
        Assert.Contains(new KeyValuePair<string, long>("newlyWithdrawn", withdrawn), record.Counts);
    }

    [Fact]
    public void Permission_flags_are_mixed_and_within_their_code_lists()
    {
        var seen = new Dictionary<int, HashSet<string>>();
        int[] binary =
        [
            File1Schema.NhsELinkagePermission, File1Schema.NhsSLinkagePermission, File1Schema.NhsWLinkagePermission,
            File1Schema.NhsNiLinkagePermission, File1Schema.SmallAreaPermission, File1Schema.EnvironmentPermission,
            File1Schema.PropertyLevelPermission, File1Schema.DfeLinkagePermission, File1Schema.DwpLinkagePermission,
            File1Schema.HmrcLinkagePermission,
        ];
        foreach (var row in CsvLines.Rows(output.File1Path("ALSPAC", 2)))
        {
            foreach (int field in binary.Append(File1Schema.GeocodingPermission).Append(File1Schema.GenderCd).Append(File1Schema.MultipleBirth))
            {
                if (!seen.TryGetValue(field, out var values))
                {
                    seen[field] = values = [];
                }

                values.Add(row[field]);
            }
        }

        Assert.All(binary, field => Assert.Equal(["0", "1"], seen[field].Order(StringComparer.Ordinal)));
        Assert.Equal(["0", "1", "2"], seen[File1Schema.GeocodingPermission].Order(StringComparer.Ordinal));
        Assert.Equal(["0", "1", "9"], seen[File1Schema.MultipleBirth].Order(StringComparer.Ordinal));
        Assert.Subset(new HashSet<string> { "1", "2", "7", "8", "9" }, seen[File1Schema.GenderCd]);
        Assert.Superset(new HashSet<string> { "1", "2" }, seen[File1Schema.GenderCd]);
    }

    [Fact]
    public void Only_the_s251_study_has_national_opt_out_1_and_it_overlaps_the_opt_out_list()
    {
        foreach (string study in Options.Studies)
        {
            string expected = study == Options.S251Study ? "1" : "0";
            Assert.All(CsvLines.Rows(output.File1Path(study, 1)), row => Assert.Equal(expected, row[File1Schema.NationalOptOut]));
        }

        string optOutPath = output.PathOf("optout/national_opt_out.csv");
        Assert.Equal(["NHS_NUMBER"], CsvLines.Header(optOutPath));
        var optedOut = CsvLines.Rows(optOutPath).Select(r => Assert.Single(r)).ToHashSet(StringComparer.Ordinal);
        Assert.All(optedOut, nhs => Assert.True(NhsNumber.IsValid(nhs)));
        Assert.Equal(optedOut.Count, CsvLines.Rows(optOutPath).Count());

        var s251Numbers = NhsNumbersOf(output.File1Path(Options.S251Study!, Options.Quarters));
        int overlap = s251Numbers.Count(optedOut.Contains);
        Assert.InRange(overlap, s251Numbers.Count / 20, s251Numbers.Count / 5); // about a tenth of the s251 cohort
        Assert.True(optedOut.Count > overlap, "the list also holds people outside the s251 study");
    }

    [Fact]
    public void Some_people_are_in_two_studies_with_the_same_nhs_number_and_dob_but_different_study_ids()
    {
        var first = CurrentRows(output.File1Path("ALSPAC", 1)).Values
            .Where(r => r[File1Schema.NhsNumber].Length > 0)
            .ToDictionary(r => r[File1Schema.NhsNumber], StringComparer.Ordinal);
        foreach (string study in new[] { "UKHLS", "BCS70" })
        {
            var shared = CurrentRows(output.File1Path(study, 1)).Values
                .Where(r => first.ContainsKey(r[File1Schema.NhsNumber]))
                .ToList();
            Assert.InRange(shared.Count, (int)(Options.Participants * Options.CrossStudyShare * 0.6), (int)(Options.Participants * Options.CrossStudyShare * 1.4));
            Assert.All(shared, row =>
            {
                var other = first[row[File1Schema.NhsNumber]];
                Assert.True(NhsNumber.IsValid(row[File1Schema.NhsNumber]));
                Assert.Equal(other[File1Schema.DateOfBirth], row[File1Schema.DateOfBirth]);
                Assert.NotEqual(other[File1Schema.StudyId], row[File1Schema.StudyId]);
            });
        }
    }

    [Fact]
    public void Distinct_people_never_share_an_nhs_number_within_a_study()
    {
        var numbers = CurrentRows(output.File1Path("BCS70", Options.Quarters)).Values
            .Select(r => r[File1Schema.NhsNumber]).Where(n => n.Length > 0).ToList();
        Assert.Equal(numbers.Count, numbers.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(StudyQuarters))]
    public void Passes_the_file1_checker(string study, int quarter)
    {
        string path = output.File1Path(study, quarter);
        using var stream = File.OpenRead(path);
        var report = File1Checker.Check(stream, new File1CheckOptions
        {
            FileName = Path.GetFileName(path),
            ExpectedStudyCode = study,
            IsFirstFile = quarter == 1,
        });

        // The deliberately invalid NHS numbers (InvalidNhsShare) are the only errors, and the checker finds them.
        var errors = report.Findings.Where(f => f.Severity == File1Severity.Error && f.Code != "nhs-number-check-digit").ToList();
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => $"{e.Code} {e.Field} x{e.Count}: {e.Message}")));
        var checkDigit = Assert.Single(report.Findings, f => f.Code == "nhs-number-check-digit");
        long invalidParticipants = output.Manifest.Find($"file1/{study}/{Path.GetFileName(path)}")!.Counts
            .Single(c => c.Key == "invalidNhsNumber").Value;
        Assert.True(checkDigit.Count >= invalidParticipants, "every row of a participant with an invalid number is reported");
        Assert.Equal(Options.ParticipantsInQuarter(quarter), report.Participants);
    }

    private static Dictionary<string, string[]> CurrentRows(string path) =>
        CsvLines.Rows(path).Where(r => r[File1Schema.RowStatus] == "C").ToDictionary(r => r[File1Schema.StudyId], StringComparer.Ordinal);

    private static HashSet<string> NhsNumbersOf(string path) =>
        CurrentRows(path).Values.Select(r => r[File1Schema.NhsNumber]).Where(n => NhsNumber.IsValid(n)).ToHashSet(StringComparer.Ordinal);
}
