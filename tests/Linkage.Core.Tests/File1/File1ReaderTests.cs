using System.Text;
using Linkage.File1;

namespace Linkage.Core.Tests.File1;

/// <summary>The streaming read API that intake uses after validation.</summary>
public class File1ReaderTests
{
    [Fact]
    public async Task Reader_yields_every_row_with_fields_and_line_numbers()
    {
        var bytes = new File1TestFile().WithHeader()
            .Row("P1").Row("P1", "H", ("SURNAME", "Smith")).Line("").Row("P2", overrides: ("NHS_NUMBER", "")).Bytes("\r\n");
        using var reader = new File1Reader(new MemoryStream(bytes));
        var seen = new List<(long Line, string Id, string Status, string Surname, string Nhs)>();
        await foreach (var row in reader.ReadAllAsync())
        {
            row.EnsureWellFormed();
            seen.Add((row.LineNumber, row.GetString(File1Schema.StudyId), row.GetString(File1Schema.RowStatus),
                row.GetString(File1Schema.Surname), row.GetString(File1Schema.NhsNumber)));
        }

        Assert.Equal(File1HeaderKind.Exact, reader.HeaderKind);
        Assert.Equal(
            [(2L, "P1", "C", "Jones", "9434765919"), (3L, "P1", "H", "Smith", "9434765919"), (5L, "P2", "C", "Jones", "")],
            seen);
    }

    [Fact]
    public void Reader_maps_misordered_columns_by_name()
    {
        var names = File1Schema.FieldNames.ToList();
        (names[0], names[33]) = (names[33], names[0]);
        var values = File1TestFile.DefaultValues("P9", "C");
        (values[0], values[33]) = (values[33], values[0]);
        var text = string.Join(",", names) + "\n" + string.Join(",", values) + "\n";
        using var reader = new File1Reader(new MemoryStream(Encoding.UTF8.GetBytes(text)));

        Assert.True(reader.Read());
        Assert.Equal(File1HeaderKind.Invalid, reader.HeaderKind);
        Assert.Equal("P9", reader.Current.GetString(File1Schema.StudyId));
        Assert.Equal("1", reader.Current.GetString(File1Schema.HmrcLinkagePermission));
    }

    [Fact]
    public void Malformed_row_throws_a_typed_exception_without_values()
    {
        var text = File1TestFile.Header + "\nSECRET-ID,C,\"unclosed\n";
        using var reader = new File1Reader(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        Assert.True(reader.Read());
        var e = Assert.Throws<File1FormatException>(reader.Current.EnsureWellFormed);
        Assert.Equal(2, e.LineNumber);
        Assert.True(e.Problems.HasFlag(File1RowProblems.UnbalancedQuote));
        Assert.True(e.Problems.HasFlag(File1RowProblems.WrongFieldCount));
        Assert.DoesNotContain("SECRET", e.Message, StringComparison.Ordinal);
        Assert.False(reader.Read());
    }

    [Fact]
    public void Reader_of_an_empty_stream_yields_nothing()
    {
        using var reader = new File1Reader(new MemoryStream());
        Assert.False(reader.Read());
        Assert.True(reader.IsEmpty);
        Assert.Equal(File1HeaderKind.None, reader.HeaderKind);
    }
}
