using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Linkage.Keys;

namespace Linkage.Cli.Bench;

/// <summary>
/// `linkage bench pseudonymise`: times a plain parse-and-write copy of a File 2-shaped CSV against the same pipeline
/// re-encrypting the id and encrypting the LSOA (<see cref="CsvTokenRewriter"/>), and prints one JSON object.
/// </summary>
internal static class PseudonymiseBench
{
    private const int IoBufferBytes = 1 << 20;

    public static Command Create()
    {
        var rowsOption = new Option<int>("--rows") { Description = "Rows in the generated File 2.", DefaultValueFactory = _ => 1_000_000 };
        var jsonOption = new Option<bool>("--json") { Description = "Print only the JSON object." };
        var command = new Command("pseudonymise", "Benchmark re-encrypting ids and encrypting LSOAs against a plain CSV copy.");
        command.Options.Add(rowsOption);
        command.Options.Add(jsonOption);
        command.SetAction(async (ParseResult parseResult, CancellationToken cancellationToken) =>
        {
            var rows = parseResult.GetValue(rowsOption);
            var jsonOnly = parseResult.GetValue(jsonOption);
            if (rows <= 0)
            {
                await Console.Error.WriteLineAsync("--rows must be positive.");
                return 2;
            }

            var result = await RunAsync(rows, jsonOnly ? null : Console.Error, cancellationToken);
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        });
        return command;
    }

    internal static async Task<Dictionary<string, object>> RunAsync(int rows, TextWriter? progress, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("linkage-bench-");
        try
        {
            var input = Path.Combine(folder.FullName, "file2.csv");
            var output = Path.Combine(folder.FullName, "out.csv");
            var generate = Stopwatch.StartNew();
            await GenerateFile2Async(input, rows, cancellationToken);
            progress?.WriteLine($"generated {rows:N0} rows ({new FileInfo(input).Length / 1e6:F0} MB) in {generate.Elapsed.TotalSeconds:F1} s");

            using var processor = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "processor-id/v1");
            using var geography = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "tre-geography/v1");
            TokenColumnRule[] rules =
            [
                TokenColumnRule.AddLayer("cohortkey_e", processor),
                TokenColumnRule.EncryptText("lsoa11cd_e", geography),
            ];

            // Warm-up (JIT, page cache), then baseline and pipeline interleaved, best of five each: other work on a
            // shared machine then slows both alike instead of skewing the ratio. CPU time is reported beside wall time.
            await TimeAsync(input, output, rules, rows, cancellationToken);
            Timing baseline = new(double.MaxValue, double.MaxValue);
            Timing pipeline = new(double.MaxValue, double.MaxValue);
            for (var round = 0; round < 5; round++)
            {
                baseline = Timing.Best(baseline, await TimeAsync(input, output, [], rows, cancellationToken));
                pipeline = Timing.Best(pipeline, await TimeAsync(input, output, rules, rows, cancellationToken));
            }

            var rowsPerSecond = rows / pipeline.WallSeconds;
            var baselineRowsPerSecond = rows / baseline.WallSeconds;
            return new Dictionary<string, object>
            {
                ["rows"] = rows,
                ["rows_per_s"] = Math.Round(rowsPerSecond),
                ["baseline_rows_per_s"] = Math.Round(baselineRowsPerSecond),
                ["ratio"] = Math.Round(rowsPerSecond / baselineRowsPerSecond, 3),
                ["pipeline_s"] = Math.Round(pipeline.WallSeconds, 3),
                ["baseline_s"] = Math.Round(baseline.WallSeconds, 3),
                ["pipeline_cpu_ns_per_row"] = Math.Round(pipeline.CpuSeconds * 1e9 / rows, 1),
                ["baseline_cpu_ns_per_row"] = Math.Round(baseline.CpuSeconds * 1e9 / rows, 1),
                ["input_mb"] = Math.Round(new FileInfo(input).Length / 1e6, 1),
                ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6, 1),
                ["processor_count"] = Environment.ProcessorCount,
            };
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<Timing> TimeAsync(string input, string output, TokenColumnRule[] rules, long expectedRows, CancellationToken cancellationToken)
    {
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        using (var reader = new StreamReader(input, Encoding.UTF8, false, IoBufferBytes))
        await using (var writer = new StreamWriter(output, Encoding.UTF8, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, BufferSize = IoBufferBytes }))
        {
            var summary = await new CsvTokenRewriter(rules).RewriteAsync(reader, writer, cancellationToken);
            if (summary.Rows != expectedRows || summary.EmptyValues != 0)
            {
                throw new InvalidOperationException($"The rewrite wrote {summary.Rows} rows ({summary.EmptyValues} empty values); expected {expectedRows}.");
            }
        }

        var wall = stopwatch.Elapsed.TotalSeconds;
        process.Refresh();
        return new Timing(wall, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
    }

    private sealed record Timing(double WallSeconds, double CpuSeconds)
    {
        public static Timing Best(Timing a, Timing b) => new(Math.Min(a.WallSeconds, b.WallSeconds), Math.Min(a.CpuSeconds, b.CpuSeconds));
    }

    /// <summary>A File 2-shaped CSV: TTP-encrypted id (22 chars), record date, LSOA11 code, origin.</summary>
    private static async Task GenerateFile2Async(string path, int rows, CancellationToken cancellationToken)
    {
        var random = new Random(20260301);
        string[] origins = ["GP", "HES_APC", "ONS", "PDS"];
        await using var writer = new StreamWriter(path, new UTF8Encoding(false), new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, BufferSize = IoBufferBytes });
        await writer.WriteAsync("cohortkey_e,record_date,lsoa11cd_e,origin\n");
        var id = new byte[16];
        var line = new char[64];
        for (var row = 0; row < rows; row++)
        {
            // About five records per person: reuse an id now and then, as a real File 2 does.
            if (row % 5 == 0)
            {
                random.NextBytes(id);
            }

            var at = 0;
            TokenCodec.Encode(id, line.AsSpan(at));
            at += TokenCodec.TokenChars;
            line[at++] = ',';
            new DateOnly(2000, 1, 1).AddDays(random.Next(9000)).TryFormat(line.AsSpan(at), out var written, "yyyy-MM-dd");
            at += written;
            line[at++] = ',';
            "E01".CopyTo(line.AsSpan(at));
            at += 3;
            random.Next(1, 35_000).TryFormat(line.AsSpan(at), out written, "D6");
            at += written;
            line[at++] = ',';
            var origin = origins[random.Next(origins.Length)];
            origin.CopyTo(line.AsSpan(at));
            at += origin.Length;
            line[at++] = '\n';
            await writer.WriteAsync(line.AsMemory(0, at), cancellationToken);
        }
    }
}
