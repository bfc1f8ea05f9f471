using Linkage.LocalHost.Triggers;

namespace Linkage.Functions.Tests.LocalHost;

public class BlobPathPatternTests
{
    [Fact]
    public void Matches_variables_and_exposes_them()
    {
        var p = new BlobPathPattern("{study}/{name}");
        Assert.True(p.TryMatch("ALSPAC/ALSPAC_FILE1_v1_20260301.csv", out var v));
        Assert.Equal("ALSPAC", v["study"]);
        Assert.Equal("ALSPAC_FILE1_v1_20260301.csv", v["name"]);
        Assert.Equal("", p.Prefix);
    }

    [Fact]
    public void Last_variable_spans_segments_but_inner_ones_do_not()
    {
        var p = new BlobPathPattern("incoming/{dataset}/{name}");
        Assert.Equal("incoming/", p.Prefix);
        Assert.True(p.TryMatch("incoming/hes/2026/file.csv", out var v));
        Assert.Equal("hes", v["dataset"]);
        Assert.Equal("2026/file.csv", v["name"]);
        Assert.False(p.TryMatch("other/hes/file.csv", out _));
        Assert.False(p.TryMatch("incoming/hes", out _));
    }

    [Fact]
    public void Unclosed_brace_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new BlobPathPattern("{study/{name}"));
    }
}
