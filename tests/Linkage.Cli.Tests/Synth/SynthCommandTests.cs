using System.CommandLine;
using System.Text.Json;
using Linkage.Cli.Synth;
using Linkage.File1;

namespace Linkage.Cli.Tests.Synth;

public sealed class SynthCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"linkage-cli-synth-{Guid.NewGuid():N}");

    [Fact]
    public async Task Writes_the_documented_layout_and_manifest()
    {
        string output = Path.Combine(_root, "out");
        int exit = await Invoke(
            "--out", output, "--seed", "99", "--studies", "ALSPAC,NCDS58", "--participants", "120", "--file2-rows", "500", "--sde-rows", "300",
            "--quarters", "2", "--missing-nhs-share", "0.1", "--invalid-nhs-share", "0");

        Assert.Equal(SynthCommand.ExitOk, exit);
        string[] expected =
        [
            "file1/ALSPAC/ALSPAC_FILE1_v1_20251201.csv", "file1/ALSPAC/ALSPAC_FILE1_v2_20260301.csv",
            "file1/NCDS58/NCDS58_FILE1_v1_20251201.csv", "file1/NCDS58/NCDS58_FILE1_v2_20260301.csv",
            "file2/london_sde_asc_cld/london_sde_asc_cld_20260401.csv", "file2/london_sde_cla/london_sde_cla_20260401.csv",
            "file2/nhse_hes_apc/nhse_hes_apc_20260401.csv", "file2/nhse_lsoa11_dataset_mapping/nhse_lsoa11_dataset_mapping_20260401.csv",
            "manifest.json", "optout/national_opt_out.csv", "reference/imd2019_lsoa11.csv",
        ];
        var actual = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(output, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "manifest.json")));
        Assert.Equal(99, manifest.RootElement.GetProperty("seed").GetInt64());
        Assert.Equal("NCDS58", manifest.RootElement.GetProperty("options").GetProperty("s251Study").GetString());
        var files = manifest.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(expected.Length - 1, files.Count);
        foreach (var file in files)
        {
            string path = Path.Combine(output, file.GetProperty("path").GetString()!);
            Assert.Equal(file.GetProperty("rows").GetInt64(), File.ReadLines(path).LongCount() - 1);
        }

        Assert.All(files.Where(f => f.GetProperty("kind").GetString() == "file2"), f => Assert.Equal(500, f.GetProperty("rows").GetInt64()));
        Assert.Equal([300L, 150L], files.Where(f => f.GetProperty("kind").GetString() == "file2-sde").Select(f => f.GetProperty("rows").GetInt64()));
        Assert.Equal(300, manifest.RootElement.GetProperty("options").GetProperty("londonSdeRows").GetInt64());
        Assert.Equal("lsoa11cd,imd_decile", File.ReadLines(Path.Combine(output, "reference/imd2019_lsoa11.csv")).First());

        // With no invalid NHS numbers the File 1 checker accepts every generated File 1.
        foreach (string path in expected.Where(p => p.StartsWith("file1/", StringComparison.Ordinal)))
        {
            await using var stream = File.OpenRead(Path.Combine(output, path));
            var report = await File1Checker.CheckAsync(stream, new File1CheckOptions
            {
                FileName = Path.GetFileName(path),
                IsFirstFile = path.Contains("_v1_", StringComparison.Ordinal),
            }, CancellationToken.None);
            Assert.True(report.Accepted, string.Join("; ", report.Findings.Select(f => $"{f.Code} {f.Field}")));
        }
    }

    [Fact]
    public async Task Progress_goes_to_stderr_and_the_summary_to_stdout()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var options = new Linkage.Synth.SynthOptions { Participants = 50, File2Rows = 2000, Quarters = 1 };
        int exit = await SynthCommand.RunAsync(options, Path.Combine(_root, "p"), showProgress: true, stdout, stderr, CancellationToken.None);

        Assert.Equal(SynthCommand.ExitOk, exit);
        Assert.Contains("file2/nhse_lsoa11_dataset_mapping/nhse_lsoa11_dataset_mapping_20260101.csv: 2,000 / 2,000 rows (100%)", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("manifest.json", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("rows (", stdout.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--participants", "0")]
    [InlineData("--invalid-nhs-share", "1.5")]
    [InlineData("--studies", "ALSPAC,../x")]
    [InlineData("--s251-study", "NOTASTUDY")]
    public async Task Options_out_of_range_exit_2_and_write_nothing(string option, string value)
    {
        string output = Path.Combine(_root, "bad");
        int exit = await Invoke("--out", output, option, value);

        Assert.Equal(SynthCommand.ExitBadOptions, exit);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task A_missing_nhs_output_file_exits_1()
    {
        int exit = await Invoke("--out", Path.Combine(_root, "x"), "--nhs-output", Path.Combine(_root, "none.csv"));
        Assert.Equal(SynthCommand.ExitBadInput, exit);
    }

    [Fact]
    public async Task Out_is_required()
    {
        Assert.NotEqual(0, await Invoke("--seed", "3"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand { SynthCommand.Create() };
        return root.Parse(["synth", .. args]).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });
    }
}
