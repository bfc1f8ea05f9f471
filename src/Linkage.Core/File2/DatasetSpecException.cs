using System.Text;

namespace Linkage.File2;

/// <summary>One problem in a dataset spec: where (file and JSON path), what is wrong, and how to fix it.</summary>
public sealed record SpecProblem(string File, string JsonPath, string Problem, string Fix)
{
    public override string ToString() => $"{File} {JsonPath}: {Problem} Fix: {Fix}";
}

/// <summary>A dataset spec failed validation; <see cref="Problems"/> lists every problem found, not just the first.</summary>
public sealed class DatasetSpecException(IReadOnlyList<SpecProblem> problems) : Exception(Describe(problems))
{
    public IReadOnlyList<SpecProblem> Problems { get; } = problems;

    private static string Describe(IReadOnlyList<SpecProblem> problems)
    {
        var text = new StringBuilder();
        text.Append("The dataset spec is invalid (").Append(problems.Count).Append(problems.Count == 1 ? " problem):" : " problems):");
        foreach (var p in problems)
        {
            text.AppendLine().Append("  - ").Append(p);
        }

        return text.ToString();
    }
}
