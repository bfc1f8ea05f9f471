using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Linkage.Synth;

namespace Linkage.Cli.Synth;

/// <summary><c>linkage synth</c>: seeded synthetic File 1s, opt-out list, File 2 datasets and IMD table (docs/synth.md).</summary>
internal static class SynthCommand
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 1;
    public const int ExitBadOptions = 2;

    public static Command Create()
    {
        var defaults = new SynthOptions();
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write into (created if missing).", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed: same seed and options give byte-identical files.", DefaultValueFactory = _ => defaults.Seed };
        var studies = new Option<string>("--studies") { Description = "Comma-separated study codes.", DefaultValueFactory = _ => string.Join(',', defaults.Studies) };
        var s251 = new Option<string?>("--s251-study") { Description = "The study on an s251 basis (National_Opt_Out=1); default the last study." };
        var participants = new Option<int>("--participants") { Description = "Participants per study in the first quarter.", DefaultValueFactory = _ => defaults.Participants };
        var file2Rows = new Option<long>("--file2-rows") { Description = "Rows in each File 2 dataset.", DefaultValueFactory = _ => defaults.File2Rows };
        var sdeRows = new Option<long>("--sde-rows") { Description = "Rows in the London SDE Adult Social Care File 2 (Children Looked After: half).", DefaultValueFactory = _ => defaults.LondonSdeRows };
        var quarters = new Option<int>("--quarters") { Description = "Quarterly File 1 versions per study.", DefaultValueFactory = _ => defaults.Quarters };
        var missing = new Option<double>("--missing-nhs-share") { Description = "Share of people with no NHS number.", DefaultValueFactory = _ => defaults.MissingNhsShare };
        var invalid = new Option<double>("--invalid-nhs-share") { Description = "Share of people with an NHS number failing the check digit.", DefaultValueFactory = _ => defaults.InvalidNhsShare };
        var nhsOutput = new Option<FileInfo?>("--nhs-output") { Description = $"NHS Output CSV whose {NhsOutputCohort.PersonIdColumn} column keys File 2 (instead of the stand-in key)." };
        var showProgress = new Option<bool>("--progress") { Description = "Show progress on stderr." };

        var command = new Command("synth", "Generate seeded synthetic File 1s, opt-out list, File 2 datasets and an IMD table.");
        foreach (Option option in new Option[] { output, seed, studies, s251, participants, file2Rows, sdeRows, quarters, missing, invalid, nhsOutput, showProgress })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            var options = new SynthOptions
            {
                Seed = pr.GetValue(seed),
                Studies = pr.GetValue(studies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                S251Study = pr.GetValue(s251),
                Participants = pr.GetValue(participants),
                File2Rows = pr.GetValue(file2Rows),
                LondonSdeRows = pr.GetValue(sdeRows),
                Quarters = pr.GetValue(quarters),
                MissingNhsShare = pr.GetValue(missing),
                InvalidNhsShare = pr.GetValue(invalid),
                NhsOutputPath = pr.GetValue(nhsOutput)?.FullName,
            };
            return await RunAsync(options, pr.GetValue(output)!.FullName, pr.GetValue(showProgress), Console.Out, Console.Error, ct);
        });
        return command;
    }

    internal static async Task<int> RunAsync(
        SynthOptions options, string outputDirectory, bool showProgress, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        try
        {
            options.Validate();
        }
        catch (SynthOptionsException ex)
        {
            await stderr.WriteLineAsync(ex.Message);
            return ExitBadOptions;
        }

        if (options.NhsOutputPath is not null && !File.Exists(options.NhsOutputPath))
        {
            await stderr.WriteLineAsync("The NHS Output file does not exist.");
            return ExitBadInput;
        }

        var progress = showProgress ? new StderrProgress(stderr) : null;
        var timings = new FileTimings(progress);
        var clock = Stopwatch.StartNew();
        SynthManifest manifest;
        try
        {
            manifest = await Task.Run(() => new SynthGenerator(options).Generate(outputDirectory, timings, ct), ct);
        }
        catch (SynthInputException ex)
        {
            progress?.Done();
            await stderr.WriteLineAsync(ex.Message);
            return ExitBadInput;
        }

        progress?.Done();
        long totalRows = 0;
        foreach (var file in manifest.Files)
        {
            totalRows += file.Rows;
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{file.Rows,12:N0} rows {timings.SecondsFor(file.Path),7:F2} s  {file.Path}"));
        }

        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{totalRows:N0} rows in {manifest.Files.Count} files under {outputDirectory} in {clock.Elapsed.TotalSeconds:F1} s (seed {options.Seed}); see {SynthManifest.FileName}."));
        return ExitOk;
    }

    /// <summary>Seconds each file took (for the summary on stdout; timings never go into the deterministic manifest).</summary>
    private sealed class FileTimings(IProgress<SynthProgress>? inner) : IProgress<SynthProgress>
    {
        private readonly Stopwatch _sinceLastFile = Stopwatch.StartNew();
        private readonly Dictionary<string, double> _seconds = new(StringComparer.Ordinal);

        public void Report(SynthProgress value)
        {
            inner?.Report(value);
            if (value.Completed)
            {
                _seconds[value.File] = _sinceLastFile.Elapsed.TotalSeconds;
                _sinceLastFile.Restart();
            }
        }

        public double SecondsFor(string path) => _seconds.GetValueOrDefault(path);
    }

    /// <summary>One self-overwriting stderr line, redrawn at most five times a second.</summary>
    private sealed class StderrProgress(TextWriter stderr) : IProgress<SynthProgress>
    {
        private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private string _lastFile = string.Empty;

        public void Report(SynthProgress value)
        {
            lock (_gate)
            {
                bool newFile = !string.Equals(value.File, _lastFile, StringComparison.Ordinal);
                if (!newFile && !value.Completed && _sinceDraw.ElapsedMilliseconds < 200)
                {
                    return;
                }

                if (newFile && _lastFile.Length > 0)
                {
                    stderr.WriteLine();
                }

                _lastFile = value.File;
                _sinceDraw.Restart();
                string line = value.TotalRows is { } total && total > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{value.File}: {value.Rows:N0} / {total:N0} rows ({100.0 * value.Rows / total:F0}%)")
                    : string.Create(CultureInfo.InvariantCulture, $"{value.File}: {value.Rows:N0} rows");
                stderr.Write("\r" + line.PadRight(100));
            }
        }

        public void Done()
        {
            lock (_gate)
            {
                if (_lastFile.Length > 0)
                {
                    stderr.WriteLine();
                }
            }
        }
    }
}
