using System.Text;
using Linkage.File2;

namespace Linkage.Core.Tests.File2;

public sealed class File2PipelineTests : IDisposable
{
    private const string Header = "cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt";
    private readonly File2World _world = new();
    private readonly DatasetSpec _lsoa = File2World.LsoaSpecBlankingAndRejecting();

    public void Dispose() => _world.Dispose();

    private static string Csv(params string[] rows) => Header + "\n" + string.Join("\n", rows) + "\n";

    private static string Row(string token, string lsoa = "E01000001", string origin = "HES APC", string date = "2020-03-04") =>
        $"{token},{date},{lsoa},{origin},2021-01-01";

    [Fact]
    public async Task Withdrawn_participants_records_never_appear()
    {
        var (result, output) = await _world.RunAsync(_lsoa, Csv(Row(_world.Permitted), Row(_world.Withdrawn), Row(_world.Withdrawn, "E01000002")));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.DoesNotContain(_world.TreId(_world.Withdrawn), output);
        Assert.DoesNotContain(_world.Withdrawn, output);
        Assert.Contains(_world.TreId(_world.Permitted), output);
        Assert.Equal(2, result.Counts.Dropped[DropReason.Withdrawn]);
    }

    [Fact]
    public async Task Unpermitted_opted_out_and_unknown_participants_are_dropped_each_with_its_reason()
    {
        var csv = Csv(
            Row(_world.Permitted), Row(_world.NoNhsE), Row(_world.NoNhsE, "E01000009"), Row(_world.OptedOut),
            Row(_world.Unknown), Row(_world.Unknown, "E01000003"), Row(_world.Unknown, "E01000004"), Row(_world.Withdrawn));

        var (result, output) = await _world.RunAsync(_lsoa, csv);

        Assert.True(result.Succeeded);
        Assert.Equal(1, result.Counts.RowsWritten);
        Assert.Equal(2, result.Counts.Dropped[DropReason.DatasetPermission]);
        Assert.Equal(1, result.Counts.Dropped[DropReason.NationalOptOut]);
        Assert.Equal(3, result.Counts.Dropped[DropReason.UnknownParticipant]);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Withdrawn]);
        foreach (var dropped in new[] { _world.NoNhsE, _world.OptedOut, _world.Unknown, _world.Withdrawn })
        {
            Assert.DoesNotContain(_world.TreId(dropped), output);
        }

        Assert.True(result.Counts.Reconciles);
    }

    [Fact]
    public async Task National_opt_out_is_ignored_for_a_dataset_it_does_not_apply_to()
    {
        var spec = _lsoa with { NationalOptOutApplies = false };
        var (result, output) = await _world.RunAsync(spec, Csv(Row(_world.OptedOut)));

        Assert.Equal(1, result.Counts.RowsWritten);
        Assert.Contains(_world.TreId(_world.OptedOut), output);
    }

    [Fact]
    public async Task No_lsoa_or_ttp_token_appears_in_the_clear_in_the_output()
    {
        var rows = new List<string>();
        var lsoas = new List<string>();
        string[] tokens = [_world.Permitted, _world.Permitted2, _world.NoSmallArea];
        for (int i = 0; i < 300; i++)
        {
            string lsoa = $"E0{1000000 + (i * 37):D7}";
            lsoas.Add(lsoa);
            rows.Add(Row(tokens[i % 3], lsoa, date: $"2019-{(i % 12) + 1:D2}-01"));
        }

        var (result, output) = await _world.RunAsync(_lsoa, Csv([.. rows]));

        Assert.True(result.Succeeded);
        Assert.Equal(300, result.Counts.RowsWritten);
        Assert.StartsWith("cohortkey_e,record_date,lsoa11cd_e,origin,avail_from_dt\n", output);
        foreach (string lsoa in lsoas)
        {
            Assert.DoesNotContain(lsoa, output);
        }

        foreach (string token in tokens)
        {
            Assert.DoesNotContain(token, output);
        }

        // The encrypted LSOA is the TRE geography cipher's token, so place-based data encrypted alike still joins.
        Assert.Contains($"{_world.TreId(_world.Permitted)},2019-01-01,{_world.GeoCipher.Encrypt(lsoas[0])},HES APC,2021-01-01", output);
        Assert.Equal(100, result.Counts.RowsWithGeographyBlanked);
        Assert.Contains($"{_world.TreId(_world.NoSmallArea)},2019-03-01,,HES APC,2021-01-01", output);
        Assert.Equal("csv", result.Metadata!.Format);
        Assert.Equal("tre-geo-v2", result.Metadata.GeographyKeyVersion);
        Assert.Equal("proc-id-v3", result.Metadata.IdKeyVersion);
        Assert.Equal(["ttp-v1"], result.Metadata.TtpTokenKeyVersions);
    }

    [Fact]
    public async Task Drop_row_geography_rule_drops_rows_with_an_area_but_keeps_rows_without()
    {
        var spec = _lsoa with { GeographyWhenMissing = GeographyWhenMissing.DropRow };
        var (result, output) = await _world.RunAsync(spec, Csv(Row(_world.NoSmallArea), Row(_world.NoSmallArea, lsoa: "")));

        Assert.Equal(1, result.Counts.Dropped[DropReason.GeographyPermission]);
        Assert.Equal(1, result.Counts.RowsWritten);
        Assert.Contains($"{_world.TreId(_world.NoSmallArea)},2020-03-04,,HES APC", output);
    }

    [Fact]
    public async Task Exact_duplicates_are_removed_keeping_the_first_in_input_order()
    {
        var csv = Csv(Row(_world.Permitted), Row(_world.Permitted2), Row(_world.Permitted), Row(_world.Permitted, "E01000002"), Row(_world.Permitted2));

        var (result, output) = await _world.RunAsync(_lsoa, csv);

        Assert.Equal(2, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(3, result.Counts.RowsWritten);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith(_world.TreId(_world.Permitted), lines[1]);
        Assert.StartsWith(_world.TreId(_world.Permitted2), lines[2]);
        Assert.Contains(_world.GeoCipher.Encrypt("E01000002"), lines[3]);
    }

    [Fact]
    public async Task Rows_that_differ_only_in_a_blanked_area_are_not_duplicates()
    {
        var (result, output) = await _world.RunAsync(_lsoa, Csv(Row(_world.NoSmallArea, "E01000001"), Row(_world.NoSmallArea, "E01000002")));

        Assert.Equal(0, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(2, result.Counts.RowsWritten);
        Assert.Equal(3, output.TrimEnd('\n').Split('\n').Length);
    }

    [Fact]
    public async Task Deduplication_across_a_spill_gives_the_same_output_as_in_memory()
    {
        var tokens = _world.AddPermitted(400);
        var random = new Random(7);
        var rows = new List<string>();
        var distinct = new HashSet<string>();
        for (int i = 0; i < 30_000; i++)
        {
            string row = Row(tokens[random.Next(tokens.Count)], $"E0{random.Next(20):D7}", date: $"2020-01-{random.Next(1, 4):D2}");
            rows.Add(row);
            distinct.Add(row);
        }

        string csv = Csv([.. rows]);
        var (inMemory, expected) = await _world.RunAsync(_lsoa, csv);
        var (spilled, actual) = await _world.RunAsync(_lsoa, csv, new File2PipelineOptions { IndexEntriesInMemory = 1024, StageBytesInMemory = 0, MaxRejectShare = 0 });

        Assert.False(inMemory.Statistics.DedupSpilled);
        Assert.False(inMemory.Statistics.StageSpilled);
        Assert.True(spilled.Statistics.DedupSpilled);
        Assert.True(spilled.Statistics.StageSpilled);
        Assert.True(spilled.Statistics.SpillFiles > 1);
        Assert.Equal(distinct.Count, spilled.Counts.RowsWritten);
        Assert.Equal(30_000 - distinct.Count, spilled.Counts.Dropped[DropReason.Duplicate]);
        Assert.True(spilled.Counts.Dropped[DropReason.Duplicate] > 1000);
        Assert.Equal(expected, actual);
        Assert.True(spilled.Counts.Reconciles);
    }

    [Fact]
    public async Task Partitions_larger_than_memory_are_split_again_and_still_deduplicate_exactly()
    {
        var tokens = _world.AddPermitted(50);
        var random = new Random(11);
        var sb = new StringBuilder(Header).Append('\n');
        var distinct = new HashSet<string>();
        for (int i = 0; i < 160_000; i++)
        {
            string row = Row(tokens[random.Next(tokens.Count)], $"E0{random.Next(400):D7}", date: $"2020-0{random.Next(1, 10)}-01");
            distinct.Add(row);
            sb.Append(row).Append('\n');
        }

        string csv = sb.ToString();
        var (_, expected) = await _world.RunAsync(_lsoa, csv);
        var (split, actual) = await _world.RunAsync(_lsoa, csv, new File2PipelineOptions { IndexEntriesInMemory = 1024, StageBytesInMemory = 1 << 20 });

        // 160k entries over 256 partitions is ≈625 each, above half the 1024-entry cap: each partition is split again.
        Assert.True(split.Statistics.SpillFiles > 256);
        Assert.Equal(distinct.Count, split.Counts.RowsWritten);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Counts_reconcile_over_every_outcome_of_a_row()
    {
        var csv = Csv(
            Row(_world.Permitted), Row(_world.Permitted), Row(_world.NoSmallArea), Row(_world.Withdrawn), Row(_world.NoNhsE),
            Row(_world.OptedOut), Row(_world.Unknown), Row(_world.Permitted, origin: "NOT_A_CODE"), Row(_world.Permitted, date: "2020-02-30"));

        var (result, _) = await _world.RunAsync(_lsoa, csv);

        var c = result.Counts;
        Assert.Equal(9, c.RowsIn);
        Assert.Equal(2, c.RowsWritten);
        Assert.Equal(2, c.RowsRejected);
        Assert.Equal(5, c.RowsDropped);
        Assert.Equal(c.RowsIn, c.RowsWritten + c.RowsRejected + c.RowsDropped);
        Assert.True(c.Reconciles);
        Assert.Equal(2, result.Metadata!.ObservationCount);
    }

    [Fact]
    public async Task Bad_rows_are_reported_by_line_and_column_without_their_values()
    {
        var csv = Csv(
            Row(_world.Permitted),
            Row(_world.Permitted, date: "04/03/2020"),
            Row("not-a-token"),
            Row(_world.Permitted, origin: "HES_XX"),
            $"{_world.Permitted},2020-01-01,E01000001",
            Row(_world.Permitted, lsoa: "E0100000123"));

        var (result, output) = await _world.RunAsync(_lsoa, csv, new File2PipelineOptions { MaxRejectShare = 0.9 });

        Assert.True(result.Succeeded);
        Assert.Equal(5, result.Counts.RowsRejected);
        Assert.Equal(1, result.Counts.RowsWritten);
        Assert.Contains(new RejectedRow(3, "record_date", "is not a valid date in the format yyyy-MM-dd"), result.Rejects);
        Assert.Contains(new RejectedRow(4, "cohortkey_e", "is not a 22-character TTP token"), result.Rejects);
        Assert.Contains(new RejectedRow(5, "origin", "is not in the column's code list"), result.Rejects);
        Assert.Contains(result.Rejects, r => r.Line == 6 && r.Column == "(row)");
        Assert.Contains(result.Rejects, r => r.Line == 7 && r.Column == "lsoa11cd");
        string report = string.Join("\n", result.Rejects.Select(r => r.ToString()));
        Assert.DoesNotContain("04/03/2020", report);
        Assert.DoesNotContain("HES_XX", report);
        Assert.DoesNotContain("E0100000123", report);
        Assert.DoesNotContain("not-a-token", report);
        Assert.DoesNotContain("E0100000123", output);
    }

    [Fact]
    public async Task A_file_with_too_many_bad_rows_is_rejected_whole_and_nothing_is_written()
    {
        var rows = Enumerable.Range(0, 100).Select(i => Row(_world.Permitted, date: i % 10 == 0 ? "2020-13-01" : "2020-01-01")).ToArray();

        var (result, output) = await _world.RunAsync(_lsoa, Csv(rows), new File2PipelineOptions { MaxRejectShare = 0.05 });

        Assert.Equal(File2Outcome.TooManyBadRows, result.Outcome);
        Assert.Equal("", output);
        Assert.Equal(10, result.Counts.RowsRejected);
        Assert.Equal(10, result.Rejects.Count);
        Assert.Equal([2L, 12, 22, 32, 42, 52, 62, 72, 82, 92], result.Rejects.Select(r => r.Line));
        Assert.Null(result.Metadata);
        Assert.Contains("10 of 100 rows are invalid", result.Problems[0]);
    }

    [Fact]
    public async Task A_header_that_does_not_match_the_spec_is_a_clear_error()
    {
        string csv = "cohortkey_e,record_date,LSOA11CD,origin,avail_from_dt,nhs_number\n" + Row(_world.Permitted) + ",x\n";

        var (result, output) = await _world.RunAsync(_lsoa, csv);

        Assert.Equal(File2Outcome.HeaderMismatch, result.Outcome);
        Assert.Equal("", output);
        Assert.Contains(result.Problems, p => p.Contains("'lsoa11cd' is missing; the header has 'LSOA11CD'", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Contains("'nhs_number' is not in dataset spec", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("9434765919")]
    [InlineData("LS6 1AA")]
    public async Task An_identifier_shaped_kept_column_stops_the_run_before_anything_is_written(string identifier)
    {
        // A spec that (wrongly) keeps a free-text column; the delivery fills it with identifiers.
        var spec = File2World.SpecKeepingFreeText();
        var rows = Enumerable.Range(0, 50).Select(i => $"{_world.Permitted},2020-01-01,E01000001,HES APC,{(i % 4 == 0 ? identifier : "x")}").ToArray();
        string dir = Path.Combine(Path.GetTempPath(), "file2-idtest-" + Guid.NewGuid().ToString("N"));

        var (result, output) = await _world.RunAsync(spec, Csv(rows), new File2PipelineOptions { TempDirectory = dir });

        Assert.Equal(File2Outcome.IdentifierColumn, result.Outcome);
        Assert.Equal("", output);
        Assert.Contains("avail_from_dt", result.Problems[0]);
        Assert.DoesNotContain(identifier, string.Join(" ", result.Problems));
        Assert.Empty(Directory.GetFiles(dir));
        Directory.Delete(dir);
    }

    [Fact]
    public async Task Identifier_shaped_values_after_the_sample_also_stop_the_run_before_output()
    {
        var spec = File2World.SpecKeepingFreeText();
        var rows = Enumerable.Range(0, 400).Select(i => $"{_world.Permitted},2020-01-01,E01000001,HES APC,{(i >= 200 ? "4010232137" : "x")}").ToArray();

        var (result, output) = await _world.RunAsync(spec, Csv(rows), new File2PipelineOptions { IdentifierSampleRows = 100 });

        Assert.Equal(File2Outcome.IdentifierColumn, result.Outcome);
        Assert.Contains("whole file", result.Problems[0]);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task A_byte_order_mark_and_crlf_line_ends_are_read_as_the_same_file()
    {
        string csv = "\uFEFF" + Csv(Row(_world.Permitted), Row(_world.Permitted2)).Replace("\n", "\r\n", StringComparison.Ordinal);

        var (result, output) = await _world.RunAsync(_lsoa, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(2, result.Counts.RowsWritten);
        Assert.DoesNotContain("\r", output);
    }

    [Fact]
    public async Task A_header_only_file_is_an_empty_curated_version_and_an_empty_file_is_unreadable()
    {
        var (headerOnly, output) = await _world.RunAsync(_lsoa, Header + "\n");
        var (empty, nothing) = await _world.RunAsync(_lsoa, "");

        Assert.True(headerOnly.Succeeded);
        Assert.Equal(0, headerOnly.Counts.RowsIn);
        Assert.Equal("cohortkey_e,record_date,lsoa11cd_e,origin,avail_from_dt\n", output);
        Assert.Equal(File2Outcome.Unreadable, empty.Outcome);
        Assert.Contains("no header row", empty.Problems[0]);
        Assert.Equal("", nothing);
    }

    [Fact]
    public async Task An_unterminated_quote_names_the_line_where_the_bad_record_starts()
    {
        var rows = Enumerable.Range(0, 5000).Select(_ => Row(_world.Permitted)).ToList();
        rows.Add($"{_world.Permitted},2020-01-01,E01000001,\"HES APC,2021-01-01");
        var options = new File2PipelineOptions { MaxRejectShare = 0.5 };

        var (result, output) = await _world.RunAsync(_lsoa, Csv([.. rows]) + string.Concat(Enumerable.Repeat("x", 1_100_000)), options);

        Assert.Equal(File2Outcome.Unreadable, result.Outcome);
        Assert.Equal("", output);
        Assert.Contains("near line 5002", result.Problems[0]);
    }

    [Fact]
    public async Task Invalid_utf8_is_an_unreadable_file_and_nothing_is_written()
    {
        byte[] good = Encoding.UTF8.GetBytes(Csv(Row(_world.Permitted)));
        byte[] bad = [.. good, .. Encoding.UTF8.GetBytes(_world.Permitted + ",2020-01-01,E01000001,HES APC,"), 0xC3, 0x28, (byte)'\n'];
        var pipeline = new File2Pipeline(_lsoa, _world.Permissions, _world.IdCipher, _world.GeoCipher);
        using var output = new MemoryStream();

        var result = await pipeline.RunAsync(new MemoryStream(bad), output, CancellationToken.None);

        Assert.Equal(File2Outcome.Unreadable, result.Outcome);
        Assert.Equal(0, output.Length);
        Assert.Contains("UTF-8", result.Problems[0]);
        Assert.Contains("near line", result.Problems[0]);
    }

    [Fact]
    public async Task Risk_report_flags_small_marginal_cells_and_rare_combinations()
    {
        var tokens = _world.AddPermitted(30);
        var rows = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            rows.Add(Row(tokens[i], "E01000001", "HES APC", "2020-01-01"));
        }

        rows.Add(Row(tokens[0], "E01000002", "GDPPR", "2018-05-05"));

        var (result, _) = await _world.RunAsync(_lsoa, Csv([.. rows]));

        var risk = result.Risk!;
        Assert.True(risk.NeedsReview);
        Assert.Equal(["origin × record_date:year"], risk.Marginals);
        Assert.Equal(2, risk.MarginalCells);
        var cell = Assert.Single(risk.SmallCells);
        Assert.Equal("origin=GDPPR, record_date:year=2018", cell.Cell);
        Assert.Equal(2, risk.QuasiIdentifierCombinations);
        Assert.Equal(1, risk.RareCombinations);
        Assert.Equal(1, risk.RecordsInRareCombinations);
        Assert.True(risk.RiskTrackingComplete);
    }

    [Fact]
    public async Task Hes_apc_spec_generalises_dates_and_ages_and_encrypts_lsoa()
    {
        var spec = File2World.ShippedSpec("nhse_hes_apc");
        string csv = "cohortkey_e,epikey,admidate,disdate,epistart,epiend,diag_01,opertn_01,admimeth,sex,startage,lsoa11cd,procode\n" +
                     $"{_world.Permitted},300000000001,2021-02-14,2021-02-20,2021-02-14,2021-02-20,I21X,K401,21,1,47,E01012345,RX1\n" +
                     $"{_world.Permitted},300000000002,2021-03-01,2021-03-02,2021-03-01,2021-03-02,\"J18,9\",,11,2,93,,RX1\n";

        var (result, output) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        string tre = _world.TreId(_world.Permitted);
        Assert.Equal(
            "cohortkey_e,epikey,admidate,disdate,epistart,epiend,diag_01,opertn_01,admimeth,sex,startage,lsoa11cd_e,procode\n" +
            $"{tre},300000000001,2021-02,2021-02,2021-02,2021-02,I21X,K401,21,1,45-49,{_world.GeoCipher.Encrypt("E01012345")},RX1\n" +
            $"{tre},300000000002,2021-03,2021-03,2021-03,2021-03,\"J18,9\",,11,2,90+,,RX1\n",
            output);
        Assert.DoesNotContain("2021-02-14", output);
        Assert.Equal("band", result.Metadata!.Variables.Single(v => v.Name == "startage").Type);
        Assert.Equal("Male", result.Metadata.Variables.Single(v => v.Name == "sex").Labels["1"]);
    }

    [Fact]
    public async Task Episodes_that_become_equal_after_generalisation_are_not_deduplicated()
    {
        var spec = File2World.ShippedSpec("nhse_hes_apc");
        string row(string day) => $"{_world.Permitted},300000000001,2021-02-{day},2021-02-20,2021-02-14,2021-02-20,I21X,K401,21,1,47,E01012345,RX1";
        string csv = "cohortkey_e,epikey,admidate,disdate,epistart,epiend,diag_01,opertn_01,admimeth,sex,startage,lsoa11cd,procode\n" + row("01") + "\n" + row("02") + "\n" + row("02") + "\n";

        var (result, _) = await _world.RunAsync(spec, csv);

        Assert.Equal(2, result.Counts.RowsWritten);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Duplicate]);
    }
}
