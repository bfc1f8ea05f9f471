using System.CommandLine;

namespace Linkage.Cli.Bench;

/// <summary>`linkage bench &lt;hot path&gt;`: benchmarks of the hot paths (see docs/benchmarks.md).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmark a hot path and print its figures.");
        // Subcommands are added by each capability: pseudonymise (keys), file2 (File 2 intake), file1, provision (project files).
        bench.Subcommands.Add(PseudonymiseBench.Create());
        bench.Subcommands.Add(File2Bench.Create());
        bench.Subcommands.Add(File1Bench.Create());
        bench.Subcommands.Add(ProvisionBench.Create());
        return bench;
    }
}
