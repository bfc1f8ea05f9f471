using System.Text;
using Linkage.File2;

namespace Linkage.Core.Tests.File2;

/// <summary>Inputs and specs at the edges: nothing is silently dropped, merged, miscounted or shown finer than published.</summary>
public sealed class File2EdgeCaseTests : IDisposable
{
    private const string LsoaHeader = "cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt";
    private readonly File2World _world = new();
    private readonly DatasetSpec _lsoa = File2World.LsoaSpecBlankingAndRejecting();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task A_row_starting_with_a_hash_is_data_not_a_comment()
    {
        var spec = Spec("""{ "name": "ward_name", "type": "string", "rule": "keep", "description": "w" }, { "name": "k", "type": "string", "rule": "encrypt-id", "description": "k" }, { "name": "n", "type": "integer", "rule": "keep", "description": "n" }""");
        string p = _world.Permitted;

        var (result, output) = await _world.RunAsync(spec, $"ward_name,k,n\n#4 Elm,{p},1\nOak,{p},x\n");

        Assert.Equal(2, result.Counts.RowsIn);
        Assert.Contains("#4 Elm", output, StringComparison.Ordinal);
        Assert.Equal(3, Assert.Single(result.Rejects).Line);
    }

    [Fact]
    public async Task Blank_lines_are_not_rows_so_a_small_file_is_not_refused_for_them_and_line_numbers_still_count_them()
    {
        string good = $"{_world.Permitted},2020-03-04,E01000001,HES APC,2021-01-01";
        string badDate = $"{_world.Permitted},2020-13-04,E01000001,HES APC,2021-01-01";
        var rows = Enumerable.Range(0, 60).Select(i => good.Replace("2021-01-01", $"2021-01-{(i % 28) + 1:D2}", StringComparison.Ordinal)).ToList();
        string csv = LsoaHeader + "\n" + string.Join("\n", rows.Take(30)) + "\n\n" + string.Join("\n", rows.Skip(30)) + "\n" + badDate + "\n\n\n";
        var options = new File2PipelineOptions { MaxRejectShare = 0.02 };

        var (result, output) = await _world.RunAsync(_lsoa, csv, options);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(61, result.Counts.RowsIn);
        Assert.Equal(3, result.Statistics.BlankLines);
        Assert.Equal(63, Assert.Single(result.Rejects).Line); // header 1, rows 2–31, blank 32, rows 33–62, bad row 63
        Assert.True(result.Counts.Reconciles);
        Assert.Equal(result.Counts.RowsWritten + 1, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task An_input_stream_that_times_out_half_way_fails_the_run_instead_of_curating_part_of_the_file()
    {
        var csv = new StringBuilder(LsoaHeader + "\n");
        for (int i = 0; i < 20_000; i++)
        {
            csv.Append(_world.Permitted).Append(",2020-01-").Append(((i % 28) + 1).ToString("D2", System.Globalization.CultureInfo.InvariantCulture)).Append(",E0100").Append(i % 10000).Append(",HES APC,2021-01-01\n");
        }

        byte[] bytes = Encoding.UTF8.GetBytes(csv.ToString());
        using var input = new FailingStream(bytes, bytes.Length / 2, new TaskCanceledException("The operation was cancelled because it exceeded the configured timeout."));
        using var output = new MemoryStream();
        var pipeline = new File2Pipeline(_lsoa, _world.Permissions, _world.IdCipher, _world.GeoCipher);

        await Assert.ThrowsAsync<TaskCanceledException>(() => pipeline.RunAsync(input, output, CancellationToken.None));
    }

    [Fact]
    public async Task Rows_with_the_geography_blanked_are_counted_as_written_not_as_read()
    {
        string row = $"{_world.NoSmallArea},2020-03-04,E01000001,HES APC,2021-01-01";

        var (result, _) = await _world.RunAsync(_lsoa, $"{LsoaHeader}\n{row}\n{row}\n");

        Assert.Equal(1, result.Counts.RowsWritten);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(1, result.Counts.RowsWithGeographyBlanked);
    }

    [Fact]
    public async Task An_identifier_sample_larger_than_the_batch_pool_does_not_stall_the_reader()
    {
        var rows = Enumerable.Range(0, 400).Select(i => $"{_world.Permitted},2020-01-{(i % 28) + 1:D2},E{i:D8},HES APC,2021-01-01");
        var pipeline = new File2Pipeline(_lsoa, _world.Permissions, _world.IdCipher, _world.GeoCipher, new File2PipelineOptions { BatchRows = 16, IdentifierSampleRows = 300 });
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(LsoaHeader + "\n" + string.Join("\n", rows) + "\n"));
        using var output = new MemoryStream();

        var result = await pipeline.RunAsync(input, output, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(400, result.Counts.RowsIn);
    }

    [Fact]
    public async Task Bands_never_overlap_below_a_top_code_and_survive_the_ends_of_the_integer_range()
    {
        var spec = Spec("""
            { "name": "k", "type": "string", "rule": "encrypt-id", "description": "k" },
            { "name": "age", "type": "integer", "rule": "generalise", "generalise": { "to": "band", "width": 10, "topCode": 85 }, "description": "a" },
            { "name": "big", "type": "integer", "rule": "generalise", "generalise": { "to": "band", "width": 5 }, "description": "b" }
            """);
        string p = _world.Permitted, q = _world.Permitted2;
        string csv = "k,age,big\n" +
            $"{p},84,-9223372036854775808\n" +
            $"{p},87,9223372036854775807\n" +
            $"{q},80,-1\n" +
            $"{q},79,4\n";

        var (result, output) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        string tp = _world.TreId(p), tq = _world.TreId(q);

        // A negative band is a text label that a spreadsheet would evaluate ("-5--1" is 4): neutralised (decision 0603).
        Assert.Equal(
            "k,age,big\n" +
            $"{tp},80-84,'-9223372036854775810--9223372036854775806\n" +
            $"{tp},85+,9223372036854775805-9223372036854775809\n" +
            $"{tq},80-84,'-5--1\n" +
            $"{tq},70-79,0-4\n",
            output);
    }

    [Fact]
    public void A_risk_marginal_finer_than_the_published_column_is_a_spec_error()
    {
        var problem = Assert.Throws<DatasetSpecException>(() => Spec(
            """{ "name": "k", "type": "string", "rule": "encrypt-id", "description": "k" }, { "name": "dob", "type": "date", "format": "yyyy-MM-dd", "rule": "generalise", "generalise": { "to": "year" }, "description": "d" }""",
            """, "risk": { "marginals": [["dob:month"]] }"""));
        Assert.Contains("published as years", problem.Message, StringComparison.Ordinal);
        _ = Spec(
            """{ "name": "k", "type": "string", "rule": "encrypt-id", "description": "k" }, { "name": "dob", "type": "date", "format": "yyyy-MM-dd", "rule": "generalise", "generalise": { "to": "month" }, "description": "d" }""",
            """, "risk": { "marginals": [["dob:year"], ["dob:month"], ["dob"]] }""");
    }

    [Fact]
    public async Task Rows_whose_excluded_values_only_split_differently_are_not_duplicates()
    {
        var spec = Spec("""
            { "name": "k", "type": "string", "rule": "encrypt-id", "description": "k" },
            { "name": "note", "type": "string", "rule": "keep", "description": "n" },
            { "name": "x1", "type": "string", "rule": "exclude", "description": "x" },
            { "name": "x2", "type": "string", "rule": "exclude", "description": "x" }
            """);
        string p = _world.Permitted;

        var (result, _) = await _world.RunAsync(spec, $"k,note,x1,x2\n{p},same,a\u001F,b\n{p},same,a,\u001Fb\n{p},same,a,\u001Fb\n");

        Assert.Equal(2, result.Counts.RowsWritten);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Duplicate]);
    }

    [Fact]
    public void Numbers_too_large_for_a_length_or_band_are_spec_errors_not_wrapped_values()
    {
        var problem = Assert.Throws<DatasetSpecException>(() => Spec(
            """{ "name": "k", "type": "string", "rule": "encrypt-id", "maxLength": 4294967318, "description": "k" }, { "name": "age", "type": "integer", "rule": "generalise", "generalise": { "to": "band", "width": 4294967301 }, "description": "a" }"""));
        Assert.Contains("maxLength", problem.Message, StringComparison.Ordinal);
        Assert.Contains("width", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Risk_cells_whose_values_only_split_differently_stay_apart_with_their_own_labels()
    {
        var spec = Spec(
            """{ "name": "k", "type": "string", "rule": "encrypt-id", "description": "k" }, { "name": "a", "type": "string", "rule": "keep", "description": "a" }, { "name": "b", "type": "string", "rule": "keep", "description": "b" }""",
            """, "risk": { "marginals": [["a", "b"]] }""");
        string p = _world.Permitted;

        var (result, _) = await _world.RunAsync(spec, $"k,a,b\n{p},x\u001F,y\n{p},x,\u001Fy\n");

        Assert.Equal(2, result.Risk!.MarginalCells);
        var cells = result.Risk.SmallCells.Select(c => c.Cell).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["a=x\u001F, b=y", "a=x, b=\u001Fy"], cells);
    }

    private static DatasetSpec Spec(string columns, string extra = "") => DatasetSpecLoader.Parse(
        $$"""
        { "specVersion": 1, "datasetId": "edge_cases", "title": "t", "description": "d", "owner": "o", "source": "s",
          "legalBasis": "test", "keyColumn": "k", "permissions": { "required": ["NhsE"], "nationalOptOutApplies": true },
          "columns": [ {{columns}} ] {{extra}} }
        """, "edge-cases.json");

    /// <summary>Serves bytes, then fails with <paramref name="failure"/> at <paramref name="failAt"/> (a storage timeout).</summary>
    private sealed class FailingStream(byte[] data, int failAt, Exception failure) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAt)
            {
                throw failure;
            }

            int n = Math.Min(count, Math.Min(failAt, data.Length) - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
