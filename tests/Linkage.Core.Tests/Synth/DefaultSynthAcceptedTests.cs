using Linkage.File1;
using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

/// <summary>With default options, every synthetic File 1 passes the File 1 checker: the intake accepts synth data as it comes.</summary>
public sealed class DefaultSynthAcceptedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("synth-defaults-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Default_synth_file1s_are_accepted_by_the_checker()
    {
        var options = new SynthOptions { Participants = 300, File2Rows = 10 };
        new SynthGenerator(options).Generate(_dir, null, CancellationToken.None);
        var files = Directory.GetFiles(Path.Combine(_dir, "file1"), "*.csv", SearchOption.AllDirectories);
        Assert.Equal(options.Studies.Count * options.Quarters, files.Length);
        foreach (var path in files)
        {
            using var stream = File.OpenRead(path);
            string study = Path.GetFileName(Path.GetDirectoryName(path)!);
            var report = File1Checker.Check(stream, new File1CheckOptions
            {
                FileName = Path.GetFileName(path),
                ExpectedStudyCode = study,
                IsFirstFile = path.Contains("_v1_", StringComparison.Ordinal),
            });
            Assert.True(report.Accepted, $"{Path.GetFileName(path)}: {string.Join("; ", report.Findings.Select(f => f.Code))}");
        }
    }
}
