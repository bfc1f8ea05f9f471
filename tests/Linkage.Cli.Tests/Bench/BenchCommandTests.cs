using Linkage.Cli.Bench;
using Linkage.File2;

namespace Linkage.Cli.Tests.Bench;

/// <summary>
/// The benchmarks run end to end on small inputs and report the fields docs/benchmarks.md relies on. These check that
/// each benchmark works and measures what it says, not how fast it is (figures come from running the command).
/// </summary>
public class BenchCommandTests
{
    [Fact]
    public async Task Pseudonymise_reports_rates_ratio_and_memory()
    {
        var result = await PseudonymiseBench.RunAsync(20_000, null, CancellationToken.None);
        Assert.Equal(20_000, Convert.ToInt64(result["rows"], System.Globalization.CultureInfo.InvariantCulture));
        foreach (var key in new[] { "rows_per_s", "baseline_rows_per_s", "ratio", "peak_working_set_mb" })
        {
            Assert.True(Convert.ToDouble(result[key], System.Globalization.CultureInfo.InvariantCulture) > 0, key);
        }
    }

    [Fact]
    public async Task File1_runs_a_synthetic_file_through_the_ttp_work_and_accepts_it()
    {
        var result = await File1Bench.RunAsync(2_000, null, CancellationToken.None);
        Assert.True((bool)result["accepted"]);
        Assert.Equal(2_000L, Convert.ToInt64(result["participants"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(Convert.ToInt64(result["rows"], System.Globalization.CultureInfo.InvariantCulture) > 2_000);
        Assert.True(Convert.ToInt64(result["nhs_output_rows"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(Convert.ToDouble(result["rows_per_s"], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task File2_curates_and_reconciles()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Functions.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        var spec = DatasetSpecLoader.LoadFile(Path.Combine(root, "config", "datasets", "nhse_lsoa11_dataset_mapping.json"));
        var result = await File2Bench.RunAsync(spec, 50_000, 512, 1, null, null, CancellationToken.None);
        Assert.Equal(50_000L, Convert.ToInt64(result["rows"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True((bool)result["counts_reconcile"]);
        foreach (var key in new[] { "rows_per_s", "baseline_rows_per_s", "ratio", "peak_working_set_mb" })
        {
            Assert.True(Convert.ToDouble(result[key], System.Globalization.CultureInfo.InvariantCulture) > 0, key);
        }
    }

    [Fact]
    public async Task Provision_reports_rates_ratio_memory_and_a_stable_output()
    {
        var result = await ProvisionBench.RunAsync(20_000, 2, null, CancellationToken.None);
        Assert.Equal(20_000L, Convert.ToInt64(result["rows"], System.Globalization.CultureInfo.InvariantCulture));
        foreach (var key in new[] { "rows_per_s", "baseline_rows_per_s", "ratio", "peak_working_set_mb" })
        {
            Assert.True(Convert.ToDouble(result[key], System.Globalization.CultureInfo.InvariantCulture) > 0, key);
        }

        // Most rows kept (the allowed set is 250k of 280k people), none lost: written + left out = rows.
        long written = Convert.ToInt64(result["rows_written"], System.Globalization.CultureInfo.InvariantCulture);
        long leftOut = Convert.ToInt64(result["rows_left_out"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(20_000L, written + leftOut);
        Assert.InRange(written, 16_000L, 19_500L);
        Assert.True((bool)result["output_sha256_stable"]);
    }
}
