using System.Security.Cryptography;
using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

public sealed class DeterminismTests : IDisposable
{
    private static readonly SynthOptions Small = new() { Seed = 7, Participants = 300, File2Rows = 3000, Quarters = 2 };
    private readonly string _root = TempDirectory.Create("synth-determinism");

    [Fact]
    public void Same_seed_and_options_give_byte_identical_files()
    {
        var first = Generate(Small, "a");
        var second = Generate(Small, "b");
        Assert.Equal(13, first.Count); // 6 File 1s, opt-out, IMD, 2 File 2s, 2 London SDE File 2s, manifest
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_different_seed_gives_different_files()
    {
        var first = Generate(Small, "a");
        var other = Generate(Small with { Seed = 8 }, "c");
        Assert.Equal(first.Keys.Order(StringComparer.Ordinal), other.Keys.Order(StringComparer.Ordinal));
        Assert.All(first.Keys, path => Assert.NotEqual(first[path], other[path]));
    }

    [Fact]
    public void Leaves_no_partial_files()
    {
        Generate(Small, "d");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "d"), "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_cancelled_run_stops_and_leaves_no_partial_file()
    {
        string directory = Path.Combine(_root, "cancelled");
        using var cancel = new CancellationTokenSource();
        var progress = new CancelOnFirstFile2Report(cancel);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new SynthGenerator(Small with { File2Rows = 2_000_000 }).Generate(directory, progress, cancel.Token));
        Assert.Empty(Directory.EnumerateFiles(directory, "*.partial", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(directory, SynthManifest.FileName)));
        Assert.False(Directory.Exists(Path.Combine(directory, "file2", HesApcSynthesizer.DatasetName)));
    }

    public void Dispose() => TempDirectory.Delete(_root);

    private sealed class CancelOnFirstFile2Report(CancellationTokenSource cancel) : IProgress<SynthProgress>
    {
        public void Report(SynthProgress value)
        {
            if (value.File.StartsWith("file2/", StringComparison.Ordinal) && value.Rows > 0)
            {
                cancel.Cancel();
            }
        }
    }

    private Dictionary<string, string> Generate(SynthOptions options, string name)
    {
        string directory = Path.Combine(_root, name);
        new SynthGenerator(options).Generate(directory, progress: null, CancellationToken.None);
        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(
            path => Path.GetRelativePath(directory, path),
            path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))),
            StringComparer.Ordinal);
    }
}
