using Linkage.File1;
using Linkage.Keys;
using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

public sealed class File2OutputTests(SynthOutputFixture output) : IClassFixture<SynthOutputFixture>
{
    private static readonly SynthOptions Options = SynthOutputFixture.Options;

    [Fact]
    public void Lsoa_mapping_dataset_has_its_columns_and_exactly_the_requested_rows()
    {
        string path = output.File2Path(LsoaMappingSynthesizer.DatasetName);
        Assert.Equal(["cohortkey_e", "record_date", "lsoa11cd", "origin", "avail_from_dt"], CsvLines.Header(path));
        var rows = CsvLines.Rows(path).ToList();
        Assert.Equal(Options.File2Rows, rows.Count);
        Assert.All(rows, r => Assert.Equal(5, r.Length));
        Assert.Equal(LsoaMappingSynthesizer.Origins.Order(StringComparer.Ordinal), rows.Select(r => r[3]).Distinct().Order(StringComparer.Ordinal));
        Assert.All(rows, r =>
        {
            var recorded = DateOnly.ParseExact(r[1], "yyyy-MM-dd");
            var available = DateOnly.ParseExact(r[4], "yyyy-MM-dd");
            Assert.InRange(recorded, new DateOnly(2005, 1, 1), Options.FileDate(Options.Quarters));
            Assert.True(available >= recorded);
        });

        // Several rows per person, and a few exact duplicates for the intake to remove.
        Assert.True(rows.Select(r => r[0]).Distinct().Count() < rows.Count / 2);
        int duplicates = rows.Count - rows.Select(r => string.Join(',', r)).Distinct().Count();
        Assert.InRange(duplicates, Options.File2Rows / 400, Options.File2Rows / 50);
    }

    [Fact]
    public void Hes_apc_dataset_has_consistent_episodes()
    {
        string path = output.File2Path(HesApcSynthesizer.DatasetName);
        string[] header = CsvLines.Header(path);
        Assert.Equal(13, header.Length);
        var rows = CsvLines.Rows(path).ToList();
        Assert.Equal(Options.File2Rows, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => r[1]).Distinct().Count()); // epikey unique
        Assert.All(rows, r =>
        {
            Assert.Equal(header.Length, r.Length);
            var dates = r[2..6].Select(d => DateOnly.ParseExact(d, "yyyy-MM-dd")).ToArray();
            Assert.True(dates[0] <= dates[2] && dates[2] <= dates[3] && dates[3] <= dates[1], "admidate ≤ epistart ≤ epiend ≤ disdate");
            Assert.Matches("^[A-Z][0-9]{3}$", r[6]);
            Assert.Matches("^([A-Z][0-9]{3}|-)$", r[7]);
            Assert.Contains(r[9], new[] { "1", "2", "9" });
            Assert.True(int.Parse(r[10], System.Globalization.CultureInfo.InvariantCulture) >= 0);
        });
    }

    [Theory]
    [InlineData(LsoaMappingSynthesizer.DatasetName, 2)]
    [InlineData(HesApcSynthesizer.DatasetName, 11)]
    public void File2_lsoa_codes_join_the_imd_table(string dataset, int lsoaColumn)
    {
        string imdPath = output.PathOf("reference/imd2019_lsoa11.csv");
        Assert.Equal(["lsoa11cd", "imd_decile"], CsvLines.Header(imdPath));
        var imd = CsvLines.Rows(imdPath).ToDictionary(r => r[0], StringComparer.Ordinal);
        Assert.Equal(LsoaCodes.Count, imd.Count);
        Assert.Contains("E01000001", imd.Keys);
        Assert.Contains("E01033768", imd.Keys);
        Assert.Contains("W01001909", imd.Keys);
        Assert.All(imd.Values, r => Assert.InRange(int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture), 1, 10));

        var codes = CsvLines.Rows(output.File2Path(dataset)).Select(r => r[lsoaColumn]).ToHashSet(StringComparer.Ordinal);
        Assert.All(codes, code => Assert.True(imd.ContainsKey(code), "every File 2 LSOA joins the IMD table"));
        Assert.Contains(codes, c => c.StartsWith('W'));
    }

    [Fact]
    public void Imd_deciles_split_each_nation_into_tenths_and_no_rank_is_written()
    {
        var rows = CsvLines.Rows(output.PathOf("reference/imd2019_lsoa11.csv")).ToList();
        Assert.All(rows, r => Assert.Equal(2, r.Length));
        foreach (var (nation, count) in new[] { ('E', LsoaCodes.EnglandCount), ('W', LsoaCodes.WalesCount) })
        {
            var perDecile = rows.Where(r => r[0][0] == nation).GroupBy(r => int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(Enumerable.Range(1, 10), perDecile.Keys.Order());
            Assert.All(perDecile.Values, n => Assert.InRange(n, (count / 10) - 1, (count / 10) + 1));
        }
    }

    [Theory]
    [InlineData(LsoaMappingSynthesizer.DatasetName)]
    [InlineData(HesApcSynthesizer.DatasetName)]
    public void File2_keys_are_stand_in_tokens_of_exactly_the_participants_in_the_nhs_output(string dataset)
    {
        // Rebuild the NHS Output population from the files themselves: last quarter, active, NHS_E permission,
        // and for the s251 study not on the national opt-out list.
        var optedOut = CsvLines.Rows(output.PathOf("optout/national_opt_out.csv")).Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
        var eligible = new HashSet<string>(StringComparer.Ordinal);
        var ineligible = new HashSet<string>(StringComparer.Ordinal);
        using var tokenizer = new StudyIdTokenizer(StandInTokenCohort.StandInKey(Options.Seed), StandInTokenCohort.KeyVersion);
        foreach (string study in Options.Studies)
        {
            foreach (var row in CsvLines.Rows(output.File1Path(study, Options.Quarters)).Where(r => r[File1Schema.RowStatus] == "C"))
            {
                bool inOutput = row[File1Schema.UkllcStatus] == "1" && row[File1Schema.NhsELinkagePermission] == "1"
                    && !(row[File1Schema.NationalOptOut] == "1" && optedOut.Contains(row[File1Schema.NhsNumber]));
                (inOutput ? eligible : ineligible).Add(tokenizer.Tokenize(study, row[File1Schema.StudyId]));
            }
        }

        var keys = CsvLines.Rows(output.File2Path(dataset)).Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
        Assert.All(keys, key =>
        {
            Assert.Equal(BlockTokenCipher.TokenChars, key.Length);
            Assert.Contains(key, eligible);
        });
        Assert.DoesNotContain(keys, ineligible.Contains);
        Assert.True(keys.Count > eligible.Count / 2, "most people in the NHS Output have records");
    }

    [Fact]
    public void Nhs_output_file_supplies_the_keys_when_given()
    {
        string directory = TempDirectory.Create("synth-nhs-output");
        try
        {
            string nhsOutput = Path.Combine(directory, "nhs_output.csv");
            var ids = Enumerable.Range(0, 50).Select(i => $"TOKEN{i:D17}").ToList();
            File.WriteAllLines(nhsOutput, ["nhs_number,ttp_person_id,date_of_birth", .. ids.Select(id => $"9434765919,{id},01/01/1990")]);
            var options = Options with { Participants = 50, File2Rows = 1000, Quarters = 1, NhsOutputPath = nhsOutput };
            var manifest = new SynthGenerator(options).Generate(Path.Combine(directory, "out"), progress: null, CancellationToken.None);

            var file2 = manifest.Files.Where(f => f.Kind == "file2").ToList();
            Assert.Equal(2, file2.Count);
            Assert.Contains("nhs_output.csv", manifest.File2KeySource, StringComparison.Ordinal);
            foreach (var record in file2)
            {
                var keys = CsvLines.Rows(Path.Combine(directory, "out", record.Path)).Select(r => r[0]).ToList();
                Assert.Equal(1000, keys.Count);
                Assert.All(keys, k => Assert.Contains(k, ids));
                Assert.True(keys.Distinct().Count() > 40);
            }
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    [Fact]
    public void A_person_with_several_nhs_output_rows_is_one_person_so_duplicates_stay_rare()
    {
        string directory = TempDirectory.Create("synth-nhs-output-repeats");
        try
        {
            string nhsOutput = Path.Combine(directory, "nhs_output.csv");
            var ids = Enumerable.Range(0, 200).Select(i => $"TOKEN{i:D17}").ToList();
            // The NHS Output has a row per current and historical identifier set: three rows per person here.
            File.WriteAllLines(nhsOutput, ["ttp_person_id,row_status", .. ids.SelectMany(id => new[] { $"{id},C", $"{id},H", $"{id},H" })]);
            var options = Options with { Participants = 50, File2Rows = 4000, Quarters = 1, NhsOutputPath = nhsOutput };
            var manifest = new SynthGenerator(options).Generate(Path.Combine(directory, "out"), progress: null, CancellationToken.None);

            var lsoa = manifest.Files.Single(f => f.Kind == "file2" && f.Path.Contains("lsoa11", StringComparison.Ordinal));
            var lines = File.ReadAllLines(Path.Combine(directory, "out", lsoa.Path)).Skip(1).ToList();
            double duplicateShare = 1 - (lines.Distinct(StringComparer.Ordinal).Count() / (double)lines.Count);
            Assert.InRange(duplicateShare, 0.001, 0.05);
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    [Fact]
    public void Nhs_output_without_the_id_column_is_refused_without_quoting_its_content()
    {
        string directory = TempDirectory.Create("synth-nhs-output-bad");
        try
        {
            string nhsOutput = Path.Combine(directory, "nhs_output.csv");
            File.WriteAllLines(nhsOutput, ["nhs_number,study_token", "9434765919,abc"]);
            var options = Options with { Participants = 10, File2Rows = 10, Quarters = 1, NhsOutputPath = nhsOutput };
            var ex = Assert.Throws<SynthInputException>(() =>
                new SynthGenerator(options).Generate(Path.Combine(directory, "out"), progress: null, CancellationToken.None));
            Assert.DoesNotContain("9434765919", ex.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(directory, "out", SynthManifest.FileName)));
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }
}
