using Linkage.File1;

namespace Linkage.Core.Tests.File1;

/// <summary>docs/formats/file1-check.md must document every finding code the checker can emit.</summary>
public class File1CheckDocsTests
{
    [Fact]
    public void Every_finding_code_is_documented_with_its_severity()
    {
        string doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "formats", "file1-check.md"));
        foreach (var rule in File1Rules.All)
        {
            string severity = rule.Severity == File1Severity.Error ? "error" : "warning";
            Assert.Contains($"| `{rule.Code}` | {severity} |", doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Finding_codes_are_unique() =>
        Assert.Equal(File1Rules.All.Count, File1Rules.All.Select(r => r.Code).Distinct().Count());

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("Functions.sln not found above the test binaries.");
    }
}
