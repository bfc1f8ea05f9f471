using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Linkage.File1;
using Linkage.Keys;
using Linkage.Synth;
using Linkage.Ttp;

namespace Linkage.Cli.Bench;

/// <summary>
/// `linkage bench file1`: a synthetic File 1 of N participants (~2.4 rows each) through the TTP's work on local files —
/// check every rule and collect (pass 1), then ID mapping, permission snapshot, NHS Output (pass 2) and delta — and
/// prints one JSON object with the time of each step and the peak working set.
/// </summary>
internal static class File1Bench
{
    public static Command Create()
    {
        var participantsOption = new Option<int>("--participants") { Description = "Participants in the generated File 1.", DefaultValueFactory = _ => 500_000 };
        var jsonOption = new Option<bool>("--json") { Description = "Print only the JSON object." };
        var command = new Command("file1", "Benchmark File 1 intake (check, tokenise, outputs) on a synthetic File 1.");
        command.Options.Add(participantsOption);
        command.Options.Add(jsonOption);
        command.SetAction(async (ParseResult parseResult, CancellationToken cancellationToken) =>
        {
            int participants = parseResult.GetValue(participantsOption);
            if (participants <= 0)
            {
                await Console.Error.WriteLineAsync("--participants must be positive.");
                return 2;
            }

            var result = await RunAsync(participants, parseResult.GetValue(jsonOption) ? null : Console.Error, cancellationToken);
            Console.WriteLine(JsonSerializer.Serialize(result));
            return (bool)result["accepted"] ? 0 : 1;
        });
        return command;
    }

    internal static async Task<Dictionary<string, object>> RunAsync(int participants, TextWriter? progress, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("linkage-bench-file1-");
        try
        {
            var generate = Stopwatch.StartNew();
            var options = new SynthOptions { Seed = 42, Studies = ["UKBB"], Participants = participants, File2Rows = 1, Quarters = 1, InvalidNhsShare = 0 };
            new SynthGenerator(options).Generate(folder.FullName, null, cancellationToken);
            string input = Directory.GetFiles(Path.Combine(folder.FullName, SynthGenerator.File1Folder, "UKBB")).Single();
            progress?.WriteLine($"generated {Path.GetFileName(input)} ({new FileInfo(input).Length / 1e6:F0} MB) in {generate.Elapsed.TotalSeconds:F1} s");

            using var tokenizer = new StudyIdTokenizer(RandomNumberGenerator.GetBytes(32), "ttp-person/v1");
            using var linkCipher = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "ttp-link/v1");
            var processor = new TtpFile1Processor(tokenizer, NationalOptOutList.Empty, linkCipher);
            var checkOptions = new File1CheckOptions { FileName = Path.GetFileName(input), ExpectedStudyCode = "UKBB", IsFirstFile = true };

            var total = Stopwatch.StartNew();
            var step = Stopwatch.StartNew();
            TtpFile1Processor.Collected collected;
            await using (var s = Open(input))
            {
                collected = await processor.CheckAndCollectAsync(s, checkOptions, "UKBB", cancellationToken);
            }

            double checkSeconds = step.Elapsed.TotalSeconds;
            progress?.WriteLine($"checked and collected {collected.Report.Rows:N0} rows in {checkSeconds:F2} s (accepted: {collected.Report.Accepted})");

            step.Restart();
            await using (var w = Writer(Path.Combine(folder.FullName, "idmap.csv")))
            {
                TtpOutputFormats.WriteIdMapping(collected.Participants, "UKBB", 1, tokenizer.KeyVersion, w);
            }

            await using (var f = File.Create(Path.Combine(folder.FullName, "perms.snapshot")))
            {
                await TtpOutputFormats.SnapshotOf(collected.Participants, new Linkage.Permissions.PermissionSnapshotHeader("UKBB", 1, tokenizer.KeyVersion, DateTimeOffset.UtcNow)).WriteAsync(f, cancellationToken);
            }

            await using (var w = Writer(Path.Combine(folder.FullName, "delta.csv")))
            {
                TtpOutputFormats.WriteDelta(collected.Participants, null, "UKBB", 1, DateOnly.FromDateTime(DateTime.UtcNow), tokenizer.KeyVersion, w);
            }

            double smallOutputsSeconds = step.Elapsed.TotalSeconds;
            step.Restart();
            long nhsRows;
            await using (var s = Open(input))
            await using (var w = Writer(Path.Combine(folder.FullName, "nhsout.csv")))
            {
                nhsRows = await processor.WriteNhsOutputAsync(s, "UKBB", collected.Participants, w, cancellationToken);
            }

            double nhsSeconds = step.Elapsed.TotalSeconds;
            double seconds = total.Elapsed.TotalSeconds;
            return new Dictionary<string, object>
            {
                ["accepted"] = collected.Report.Accepted,
                ["rows"] = collected.Report.Rows,
                ["participants"] = collected.Report.Participants,
                ["nhs_output_rows"] = nhsRows,
                ["seconds"] = Math.Round(seconds, 2),
                ["rows_per_s"] = Math.Round(collected.Report.Rows / seconds),
                ["check_and_collect_s"] = Math.Round(checkSeconds, 2),
                ["id_mapping_snapshot_delta_s"] = Math.Round(smallOutputsSeconds, 2),
                ["nhs_output_s"] = Math.Round(nhsSeconds, 2),
                ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
            };
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);

    private static StreamWriter Writer(string path) => new(path, false, new UTF8Encoding(false), 1 << 20);
}
