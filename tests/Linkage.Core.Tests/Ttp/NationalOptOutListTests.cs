using System.Text;
using Linkage.Ttp;

namespace Linkage.Core.Tests.Ttp;

/// <summary>The national opt-out list fails closed: one line that is not exactly a valid NHS number refuses the whole list.</summary>
public sealed class NationalOptOutListTests
{
    [Theory]
    [InlineData("943 476 5919", 2, "not 10 digits")] // the spaced form of a real entry: skipping it would send that person to NHS England
    [InlineData("943-476-5919", 2, "not 10 digits")]
    [InlineData("\"9434765919\"", 2, "not 10 digits")]
    [InlineData("9434765918", 2, "wrong check digit")]
    [InlineData("94347659190", 2, "not 10 digits")]
    public async Task A_malformed_line_refuses_the_list_naming_the_line_but_not_the_value(string line, int lineNumber, string problem)
    {
        var e = await Assert.ThrowsAsync<NationalOptOutListInvalidException>(() => ReadAsync($"NHS_NUMBER\n{line}\n4010232137\n"));

        Assert.Equal(lineNumber, e.Line);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("943", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_well_formed_list_is_read_with_or_without_header_blank_lines_and_crlf()
    {
        var list = await ReadAsync("NHS_NUMBER\r\n9434765919\r\n\r\n4010232137\r\n");
        Assert.Equal(2, list.Count);
        Assert.True(list.Contains("9434765919"));
        Assert.False(list.Contains("9990000018"));
        Assert.Equal(1, (await ReadAsync("9434765919\n")).Count);
    }

    private static Task<NationalOptOutList> ReadAsync(string text) =>
        NationalOptOutList.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), CancellationToken.None);
}
