using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

/// <summary>One synth run shared by the output-shape tests (generated once into a temporary directory).</summary>
public sealed class SynthOutputFixture : IDisposable
{
    public static SynthOptions Options { get; } = new()
    {
        Seed = 20260301,
        Studies = ["ALSPAC", "UKHLS", "BCS70"],
        S251Study = "UKHLS",
        Participants = 3000,
        File2Rows = 20_000,
        Quarters = 3,
        MissingNhsShare = 0.05,
        InvalidNhsShare = 0.02,
    };

    public SynthOutputFixture()
    {
        Directory = TempDirectory.Create("synth-shapes");
        Manifest = new SynthGenerator(Options).Generate(Directory, progress: null, CancellationToken.None);
    }

    public string Directory { get; }

    public SynthManifest Manifest { get; }

    public string PathOf(string relative) => Path.Combine(Directory, relative.Replace('/', Path.DirectorySeparatorChar));

    public string File1Path(string study, int quarter) =>
        PathOf($"file1/{study}/{File1Synthesizer.FileNameFor(study, quarter, Options.FileDate(quarter))}");

    public string File2Path(string dataset) =>
        PathOf($"file2/{dataset}/{dataset}_{DateText.Compact(new SynthGenerator(Options).File2DeliveredOn)}.csv");

    public void Dispose() => TempDirectory.Delete(Directory);
}

/// <summary>Temporary directories for generated files, removed after the test.</summary>
public static class TempDirectory
{
    public static string Create(string purpose)
    {
        string path = Path.Combine(Path.GetTempPath(), $"linkage-{purpose}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        if (System.IO.Directory.Exists(path))
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
    }
}

/// <summary>Reads generated CSVs line by line. Synth never quotes File 1 or File 2 fields, which the tests also check.</summary>
public static class CsvLines
{
    public static IEnumerable<string[]> Rows(string path)
    {
        bool header = true;
        foreach (string line in File.ReadLines(path))
        {
            if (header)
            {
                header = false;
                continue;
            }

            yield return line.Split(',');
        }
    }

    public static string[] Header(string path) => File.ReadLines(path).First().Split(',');
}
