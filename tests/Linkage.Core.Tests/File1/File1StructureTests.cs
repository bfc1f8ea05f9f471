using System.Text;
using Linkage.File1;

namespace Linkage.Core.Tests.File1;

/// <summary>The bad-file corpus, part 1: CSV structure, encoding and file-level cases.</summary>
public class File1StructureTests
{
    [Fact]
    public void Valid_file_is_accepted_with_row_and_participant_counts()
    {
        var report = new File1TestFile().WithHeader()
            .Row("P1", "C").Row("P1", "H").Row("P1", "H")
            .Row("P2", "C")
            .Row("P3", "H").Row("P3", "C")
            .Check();

        Assert.True(report.Accepted, string.Join("; ", report.Findings.Select(f => f.Code)));
        Assert.Empty(report.Findings);
        Assert.Equal(6, report.Rows);
        Assert.Equal(3, report.Participants);
        Assert.Equal(3, report.CurrentRows);
        Assert.Equal(3, report.HistoricalRows);
        Assert.Equal("ALSPAC", report.StudyCode);
        Assert.Equal(3, report.Version);
        Assert.Equal(new DateOnly(2026, 3, 1), report.FileDate);
    }

    [Fact]
    public void Crlf_line_ends_are_accepted_and_line_numbers_stay_right()
    {
        var file = new File1TestFile().WithHeader()
            .Row("P1").Row("P2", overrides: ("NHS_NUMBER", "9434765918")).Row("P3");
        var report = File1TestFile.CheckBytes(file.Bytes("\r\n"));

        Assert.Equal(3, report.Rows);
        Assert.Equal([3L], report.Single("nhs-number-check-digit").Lines);
        Assert.Single(report.Findings);
    }

    [Fact]
    public void Lone_cr_line_ends_are_read_as_line_ends()
    {
        var report = File1TestFile.CheckBytes(new File1TestFile().WithHeader().Row("P1").Row("P2").Bytes("\r"));
        Assert.True(report.Accepted);
        Assert.Equal(2, report.Rows);
    }

    [Fact]
    public void Missing_final_line_end_is_fine()
    {
        var text = new File1TestFile().WithHeader().Row("P1").Row("P2").Text().TrimEnd('\n');
        var report = File1TestFile.CheckBytes(Encoding.UTF8.GetBytes(text));
        Assert.True(report.Accepted);
        Assert.Equal(2, report.Rows);
    }

    [Fact]
    public void Utf8_bom_is_accepted_with_a_warning()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(new File1TestFile().WithHeader().Row("P1").Bytes()).ToArray();
        var report = File1TestFile.CheckBytes(bytes);

        Assert.True(report.Accepted);
        var bom = report.Single("encoding-bom");
        Assert.Equal(File1Severity.Warning, bom.Severity);
        Assert.Empty(bom.Lines);
        report.HasNo("header-missing");
    }

    [Fact]
    public void Non_utf8_bytes_are_an_error_on_their_line()
    {
        var head = new File1TestFile().WithHeader().Row("P1").Bytes();
        // "Müller" saved as Windows-1252: 0xFC is not UTF-8.
        var bad = Encoding.Latin1.GetBytes(File1TestFile.RowText("P2", overrides: ("SURNAME", "M\u00fcller")) + "\n");
        var tail = Encoding.UTF8.GetBytes(File1TestFile.RowText("P3", overrides: ("SURNAME", "M\u00fcller")) + "\n");
        var report = File1TestFile.CheckBytes([.. head, .. bad, .. tail]);

        Assert.False(report.Accepted);
        var finding = report.Single("encoding-invalid-utf8");
        Assert.Equal([3L], finding.Lines);
        Assert.Equal(File1Severity.Error, finding.Severity);
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })] // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // UTF-16 surrogate
    [InlineData(new byte[] { 0xE2, 0x82 })] // cut short before a comma
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0x80 })] // lone continuation byte
    public void Malformed_utf8_sequences_are_found(byte[] sequence)
    {
        var prefix = Encoding.UTF8.GetBytes(File1TestFile.Header + "\nP1,C,9434765919,Jones");
        var suffix = Encoding.UTF8.GetBytes("," + string.Join(",", File1TestFile.DefaultValues("P1", "C").Skip(4)) + "\n");
        var report = File1TestFile.CheckBytes([.. prefix, .. sequence, .. suffix]);
        Assert.Equal([2L], report.Single("encoding-invalid-utf8").Lines);
    }

    [Fact]
    public void Valid_multibyte_text_is_accepted()
    {
        var report = new File1TestFile().WithHeader()
            .Row("P1", overrides: [("SURNAME", "Ó Súilleabháin"), ("FORENAME", "Zoë"), ("ADDRESS_1", "Straße 😀")]).Check();
        Assert.True(report.Accepted, string.Join("; ", report.Findings.Select(f => f.Code)));
    }

    [Fact]
    public void Unbalanced_quote_is_reported_and_the_next_line_is_still_read()
    {
        var report = new File1TestFile().WithHeader()
            .Row("P1")
            .Row("P2", overrides: ("ADDRESS_1", "\"1 High Street"))
            .Row("P3", overrides: ("NHS_NUMBER", "123"))
            .Check();

        Assert.False(report.Accepted);
        Assert.Equal([3L], report.Single("csv-unbalanced-quote").Lines);
        Assert.Equal([4L], report.Single("nhs-number-length").Lines);
        Assert.Equal(3, report.Rows);
    }

    [Fact]
    public void Unbalanced_quote_on_the_last_line_without_line_end_is_reported()
    {
        var text = new File1TestFile().WithHeader().Row("P1").Text() + File1TestFile.RowText("P2", overrides: ("HMRC_Linkage_Permission", "\"1"));
        var report = File1TestFile.CheckBytes(Encoding.UTF8.GetBytes(text));
        Assert.Equal([3L], report.Single("csv-unbalanced-quote").Lines);
    }

    [Theory]
    [InlineData("Jo\"nes")]
    [InlineData("\"Jones\"x")]
    public void Stray_quotes_are_an_error(string surname)
    {
        var report = new File1TestFile().WithHeader().Row("P1", overrides: ("SURNAME", surname)).Check();
        Assert.Equal([2L], report.Single("csv-stray-quote").Lines);
    }

    [Fact]
    public void Quoted_values_with_commas_and_doubled_quotes_are_read()
    {
        using var reader = new File1Reader(new MemoryStream(new File1TestFile().WithHeader()
            .Row("P1", overrides: ("ADDRESS_1", "\"The \"\"Old\"\" Mill, Lane\"")).Bytes()));
        Assert.True(reader.Read());
        Assert.Equal("The \"Old\" Mill, Lane", reader.Current.GetString(6));
        Assert.True(reader.Current.IsWellFormed);
    }

    [Theory]
    [InlineData(33)]
    [InlineData(35)]
    public void Wrong_field_count_is_an_error_on_that_line(int fields)
    {
        var values = File1TestFile.DefaultValues("P2", "C").ToList();
        if (fields < values.Count)
        {
            values.RemoveAt(values.Count - 1);
        }
        else
        {
            values.Add("x");
        }

        var report = new File1TestFile().WithHeader().Row("P1").Line(string.Join(",", values)).Row("P3").Check();
        Assert.False(report.Accepted);
        Assert.Equal([3L], report.Single("csv-field-count").Lines);
    }

    [Fact]
    public void Empty_file_is_rejected()
    {
        var report = File1TestFile.CheckBytes([]);
        Assert.False(report.Accepted);
        report.Single("file-empty");
        Assert.Equal(0, report.Rows);
    }

    [Fact]
    public void File_with_only_a_bom_is_empty()
    {
        var report = File1TestFile.CheckBytes([0xEF, 0xBB, 0xBF]);
        report.Single("file-empty");
        Assert.False(report.Accepted);
    }

    [Fact]
    public void Header_only_file_is_rejected()
    {
        var report = new File1TestFile().WithHeader().Check();
        Assert.False(report.Accepted);
        report.OnlyFindings("file-no-data-rows");
    }

    [Fact]
    public void Blank_lines_are_skipped_with_a_warning()
    {
        var report = new File1TestFile().WithHeader().Row("P1").Line("").Row("P2").Check();
        Assert.True(report.Accepted);
        Assert.Equal([3L], report.Single("csv-blank-line").Lines);
        Assert.Equal(2, report.Rows);
    }

    [Fact]
    public void A_10_MB_value_is_reported_as_too_long_in_bounded_memory()
    {
        var head = new File1TestFile().WithHeader().Row("P1").Bytes();
        var huge = Encoding.UTF8.GetBytes(File1TestFile.RowText("P2", overrides: ("SURNAME", new string('x', 10 * 1024 * 1024))) + "\n");
        var tail = new File1TestFile().Row("P3").Bytes();
        byte[] bytes = [.. head, .. huge, .. tail];

        long before = GC.GetAllocatedBytesForCurrentThread();
        var report = File1TestFile.CheckBytes(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal([3L], report.Single("value-too-long", "SURNAME").Lines);
        Assert.Equal(3, report.Rows);
        Assert.True(allocated < 2 * 1024 * 1024, $"allocated {allocated} bytes for a 10 MB line");
    }

    [Fact]
    public void A_10_MB_line_of_many_fields_is_a_field_count_error_in_bounded_memory()
    {
        var head = new File1TestFile().WithHeader().Row("P1").Bytes();
        var huge = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a,", 5 * 1024 * 1024)) + "\n");
        byte[] bytes = [.. head, .. huge, .. new File1TestFile().Row("P3").Bytes()];

        long before = GC.GetAllocatedBytesForCurrentThread();
        var report = File1TestFile.CheckBytes(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        report.OnlyFindings("csv-field-count");
        Assert.Equal([3L], report.Single("csv-field-count").Lines);
        Assert.True(allocated < 2 * 1024 * 1024, $"allocated {allocated} bytes for a 10 MB line");
    }

    [Fact]
    public void A_10_MB_line_with_an_unclosed_quote_is_reported()
    {
        var head = new File1TestFile().WithHeader().Row("P1").Bytes();
        var huge = Encoding.UTF8.GetBytes("P2,C,\"" + new string('y', 10 * 1024 * 1024) + "\n");
        var report = File1TestFile.CheckBytes([.. head, .. huge, .. new File1TestFile().Row("P3").Bytes()]);
        Assert.Equal([3L], report.Single("csv-unbalanced-quote").Lines);
        Assert.Equal([3L], report.Single("csv-field-count").Lines);
        Assert.Equal(3, report.Rows);
    }

    [Fact]
    public async Task Async_check_gives_the_same_report_as_sync()
    {
        var bytes = new File1TestFile().WithHeader().Row("P1").Row("P1").Row("P2", overrides: ("GENDER_CD", "3")).Bytes();
        var sync = File1TestFile.CheckBytes(bytes);
        await using var stream = new TrickleStream(bytes);
        var async = await File1Checker.CheckAsync(stream, File1TestFile.Options(), CancellationToken.None);
        Assert.Equal(File1CheckReportJson.ToJson(sync), File1CheckReportJson.ToJson(async));
    }

    [Fact]
    public void Reading_one_byte_at_a_time_gives_the_same_report()
    {
        // Splits every CRLF, BOM and multi-byte sequence across reads.
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. new File1TestFile().WithHeader().Row("P1", overrides: ("SURNAME", "Zoë"))
            .Row("P2", overrides: ("ADDRESS_1", "\"a,\"\"b\"")).Bytes("\r\n")];
        var whole = File1TestFile.CheckBytes(bytes);
        using var trickle = new TrickleStream(bytes);
        var trickled = File1Checker.Check(trickle, File1TestFile.Options());
        Assert.Equal(File1CheckReportJson.ToJson(whole), File1CheckReportJson.ToJson(trickled));
        Assert.True(trickled.Accepted);
    }

    /// <summary>A stream that returns one byte per read, to cross every buffer boundary.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }
}

/// <summary>Arbitrary bytes never crash the checker and always give a consistent report.</summary>
public class File1FuzzTests
{
    [Fact]
    public void Random_bytes_give_a_report_not_an_exception()
    {
        var random = new Random(20260301);
        byte[] alphabet = [.. "\",\r\n0123456789CHabc /-="u8, 0xC3, 0xA9, 0xFF, 0xEF, 0xBB, 0xBF, 0x80, 0xE2];
        var header = System.Text.Encoding.UTF8.GetBytes(File1TestFile.Header + "\n");
        var row = System.Text.Encoding.UTF8.GetBytes(File1TestFile.RowText("P1") + "\n");
        for (int round = 0; round < 300; round++)
        {
            var noise = new byte[random.Next(0, 400)];
            for (int i = 0; i < noise.Length; i++)
            {
                noise[i] = alphabet[random.Next(alphabet.Length)];
            }

            // Noise alone, and noise spliced into an otherwise valid file.
            byte[] spliced = [.. header, .. row, .. noise, .. row];
            foreach (var bytes in new[] { noise, spliced })
            {
                var report = File1TestFile.CheckBytes(bytes);
                Assert.Equal(report.ErrorCount == 0, report.Accepted);
                Assert.All(report.Findings, f => Assert.True(f.Count >= f.Lines.Count));
                Assert.All(report.Findings.SelectMany(f => f.Lines), l => Assert.InRange(l, 1, bytes.Length + 1));
                Assert.True(report.CurrentRows + report.HistoricalRows <= report.Rows);
            }
        }
    }
}
