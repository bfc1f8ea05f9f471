using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Linkage.File2;
using Linkage.Keys;
using Linkage.Provisioning;

namespace Linkage.Cli.Bench;

/// <summary>
/// `linkage bench provision`: times writing a project file from a curated LSOA11-shaped version
/// (<see cref="ProjectFileWriter"/>: ids and LSOAs re-keyed to the project's keys, rows of people outside a ~250k
/// allowed set left out, SHA-256 of the output) against a plain parse-and-write copy of the same file
/// (<see cref="CsvTokenRewriter"/> with no rules), interleaved, several rounds; prints one JSON object of medians.
/// </summary>
/// <remarks>
/// Like for like: in the product every project file is written through <c>AtomicBlobWriter(computeSha256: true)</c>
/// (ProjectProvisioner), which hashes every byte it commits, and a plain copy of the curated file into the project
/// container would be hashed by that same writer. So both timed paths write through the same destination, a
/// <see cref="HashingWriteStream"/> taking SHA-256 over the file stream, and the provision calls
/// <see cref="ProjectFileWriter.WriteAsync"/> with <c>computeSha256: false</c> as the provisioner does (the destination
/// hashes, not the writer). Nothing is hidden: each round also times both paths without any hash (plain file
/// destination), reported as <c>ratio_without_hash</c> and the <c>*_without_hash</c> CPU figures.
/// </remarks>
internal static class ProvisionBench
{
    private const int IoBufferBytes = 1 << 16;

    /// <summary>People in the curated version, and how many of them the project may receive (UK LLC's scale).</summary>
    private const int Population = 280_000;

    private const int AllowedMembers = 250_000;

    private const int Lsoas = 35_000;

    /// <summary>The curated LSOA11 version's shape (the output of config/datasets/nhse_lsoa11_dataset_mapping.json).</summary>
    private const string SpecJson = """
        {
          "specVersion": 1, "datasetId": "nhse_lsoa11_dataset_mapping", "title": "LSOA11 mappings (bench)", "owner": "bench",
          "source": "bench", "kind": "participant", "keyScheme": "ukllc-ttp-token", "legalBasis": "synthetic benchmark data",
          "keyColumn": "cohortkey_e",
          "permissions": { "checks": "ukllc", "required": ["NhsE"], "nationalOptOutApplies": true, "geography": { "flag": "SmallArea", "whenMissing": "drop-row" } },
          "columns": [
            { "name": "cohortkey_e", "type": "string", "rule": "encrypt-id", "required": true, "maxLength": 22 },
            { "name": "record_date", "type": "date", "format": "yyyy-MM-dd", "rule": "keep", "required": true },
            { "name": "lsoa11cd", "type": "string", "maxLength": 9, "rule": "encrypt-geography", "output": "lsoa11cd_e" },
            { "name": "origin", "type": "string", "rule": "keep", "required": true },
            { "name": "avail_from_dt", "type": "date", "format": "yyyy-MM-dd", "rule": "keep" }
          ]
        }
        """;

    public static Command Create()
    {
        var rowsOption = new Option<int>("--rows") { Description = "Rows in the generated curated version.", DefaultValueFactory = _ => 1_000_000 };
        var roundsOption = new Option<int>("--rounds") { Description = "Timed rounds of each path (interleaved); medians are reported.", DefaultValueFactory = _ => 7 };
        var jsonOption = new Option<bool>("--json") { Description = "Print only the JSON object." };
        var breakdownOption = new Option<bool>("--breakdown") { Description = "Also time the parts: the two re-keyed columns alone, then with the cohort filter (no hash)." };
        var command = new Command("provision", "Benchmark writing a project file (re-keyed ids and LSOAs, cohort filter, SHA-256) against a plain CSV copy.");
        command.Options.Add(rowsOption);
        command.Options.Add(roundsOption);
        command.Options.Add(jsonOption);
        command.Options.Add(breakdownOption);
        command.SetAction(async (ParseResult parseResult, CancellationToken cancellationToken) =>
        {
            var rows = parseResult.GetValue(rowsOption);
            var rounds = parseResult.GetValue(roundsOption);
            if (rows <= 0 || rounds <= 0)
            {
                await Console.Error.WriteLineAsync("--rows and --rounds must be positive.");
                return 2;
            }

            var result = await RunAsync(rows, rounds, parseResult.GetValue(jsonOption) ? null : Console.Error, cancellationToken, parseResult.GetValue(breakdownOption));
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        });
        return command;
    }

    internal static async Task<Dictionary<string, object>> RunAsync(int rows, int rounds, TextWriter? progress, CancellationToken cancellationToken, bool breakdown = false)
    {
        var folder = Directory.CreateTempSubdirectory("linkage-bench-provision-");
        try
        {
            var input = Path.Combine(folder.FullName, "nhse_lsoa11_dataset_mapping_v0004.csv");
            var output = Path.Combine(folder.FullName, "project.csv");
            var loadBefore = LoadAverage();
            var generate = Stopwatch.StartNew();
            using var treGeo = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "tre-geography/v1");
            var people = RandomNumberGenerator.GetBytes(Population * 16); // TRE ids: AES outputs, uniformly random
            await GenerateCuratedAsync(input, rows, people, treGeo, cancellationToken);
            using var allowed = AllowedParticipants.FromBlocks(people.AsSpan(0, AllowedMembers * 16));
            progress?.WriteLine($"generated {rows:N0} rows ({new FileInfo(input).Length / 1e6:F0} MB), {Population:N0} people, {allowed.Count:N0} allowed, in {generate.Elapsed.TotalSeconds:F1} s");

            using var treId = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "processor-id/v1");
            using var projectId = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), KeyPurposes.VersionLabel(KeyPurposes.ProjectId("LLC_0001"), 1));
            using var projectGeo = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), KeyPurposes.VersionLabel(KeyPurposes.ProjectGeography("LLC_0001"), 1));
            var writer = new ProjectFileWriter(DatasetSpecLoader.Parse(SpecJson, "bench"), treId, projectId, treGeo, projectGeo);

            ProjectFileResult? last = null;
            var hashes = new HashSet<string>(StringComparer.Ordinal);
            var copyHashes = new HashSet<string>(StringComparer.Ordinal);

            // The timed paths: both through the same hashing destination (see the remarks), and both without it.
            Task<long> Provision(Stream i, Stream o, CancellationToken ct) => HashedAsync(o, h => ProvisionAsync(writer, allowed, i, h, r => last = r, ct), hashes.Add);
            Task<long> Copy(Stream i, Stream o, CancellationToken ct) => HashedAsync(o, h => CopyAsync(i, h, ct), copyHashes.Add);
            Task<long> ProvisionWithoutHash(Stream i, Stream o, CancellationToken ct) => ProvisionAsync(writer, allowed, i, o, r => last = r, ct);

            // Warm-up (JIT tiers, page cache), untimed; then interleaved rounds: other work on a shared machine slows
            // both paths alike instead of skewing the ratio. Medians, with the best beside them.
            for (var pass = 0; pass < 2; pass++)
            {
                await TimeAsync(input, output, Copy, cancellationToken);
                await TimeAsync(input, output, Provision, cancellationToken);
            }

            // The parts, for --breakdown: the same rewrite with the two rules only, then with the cohort filter (no hash).
            TokenColumnRule[] rules = [TokenColumnRule.Transcode("cohortkey_e", treId, projectId), TokenColumnRule.Transcode("lsoa11cd_e", treGeo, projectGeo)];
            Task<long> RulesOnly(Stream i, Stream o, CancellationToken ct) => RewriteAsync(rules, null, i, o, ct);
            Task<long> RulesAndFilter(Stream i, Stream o, CancellationToken ct) => RewriteAsync(rules, new ContainsFilter("cohortkey_e", allowed), i, o, ct);

            var copy = new List<Timing>();
            var provision = new List<Timing>();
            var copyWithoutHash = new List<Timing>();
            var provisionWithoutHash = new List<Timing>();
            var rulesOnly = new List<Timing>();
            var rulesAndFilter = new List<Timing>();
            for (var round = 0; round < rounds; round++)
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                copy.Add(await TimeAsync(input, output, Copy, cancellationToken));
                provision.Add(await TimeAsync(input, output, Provision, cancellationToken));
                copyWithoutHash.Add(await TimeAsync(input, output, CopyAsync, cancellationToken));
                provisionWithoutHash.Add(await TimeAsync(input, output, ProvisionWithoutHash, cancellationToken));
                if (breakdown)
                {
                    rulesOnly.Add(await TimeAsync(input, output, RulesOnly, cancellationToken));
                    rulesAndFilter.Add(await TimeAsync(input, output, RulesAndFilter, cancellationToken));
                }

                progress?.WriteLine($"round {round + 1}: copy {copy[^1].WallSeconds:F3} s, provision {provision[^1].WallSeconds:F3} s");
            }

            var copySeconds = Median(copy.Select(t => t.WallSeconds));
            var provisionSeconds = Median(provision.Select(t => t.WallSeconds));
            var result = new Dictionary<string, object>
            {
                ["rows"] = rows,
                ["rows_per_s"] = Math.Round(rows / provisionSeconds),
                ["baseline_rows_per_s"] = Math.Round(rows / copySeconds),
                ["ratio"] = Math.Round(copySeconds / provisionSeconds, 3),
                ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
                ["rounds"] = rounds,
                ["best_rows_per_s"] = Math.Round(rows / provision.Min(t => t.WallSeconds)),
                ["best_baseline_rows_per_s"] = Math.Round(rows / copy.Min(t => t.WallSeconds)),
                ["ratios"] = copy.Zip(provision, (c, p) => Math.Round(c.WallSeconds / p.WallSeconds, 3)).ToArray(),
                ["provision_cpu_ns_per_row"] = Math.Round(Median(provision.Select(t => t.CpuSeconds)) * 1e9 / rows, 1),
                ["baseline_cpu_ns_per_row"] = Math.Round(Median(copy.Select(t => t.CpuSeconds)) * 1e9 / rows, 1),
                ["cpu_ratio"] = Math.Round(Median(copy.Select(t => t.CpuSeconds)) / Median(provision.Select(t => t.CpuSeconds)), 3),
                ["ratio_without_hash"] = Math.Round(Median(copyWithoutHash.Select(t => t.WallSeconds)) / Median(provisionWithoutHash.Select(t => t.WallSeconds)), 3),
                ["rows_per_s_without_hash"] = Math.Round(rows / Median(provisionWithoutHash.Select(t => t.WallSeconds))),
                ["baseline_rows_per_s_without_hash"] = Math.Round(rows / Median(copyWithoutHash.Select(t => t.WallSeconds))),
                ["provision_cpu_ns_per_row_without_hash"] = Math.Round(Median(provisionWithoutHash.Select(t => t.CpuSeconds)) * 1e9 / rows, 1),
                ["baseline_cpu_ns_per_row_without_hash"] = Math.Round(Median(copyWithoutHash.Select(t => t.CpuSeconds)) * 1e9 / rows, 1),
                ["cpu_ratio_without_hash"] = Math.Round(Median(copyWithoutHash.Select(t => t.CpuSeconds)) / Median(provisionWithoutHash.Select(t => t.CpuSeconds)), 3),
                ["rows_written"] = last!.RowsWritten,
                ["rows_left_out"] = last.RowsLeftOut,
                ["participants_written"] = last.ParticipantsWritten ?? 0,
                ["allowed_members"] = allowed.Count,
                ["allowed_set_mb"] = Math.Round(allowed.MemoryBytes / 1048576.0, 1),
                ["output_sha256_stable"] = hashes.Count == 1 && copyHashes.Count == 1,
                ["allowed_set_huge_pages"] = allowed.HugePagesAdvised,
                ["input_mb"] = Math.Round(new FileInfo(input).Length / 1e6, 1),
                ["processor_count"] = Environment.ProcessorCount,
                ["load_average_before"] = loadBefore,
                ["load_average_after"] = LoadAverage(),
            };
            if (breakdown)
            {
                result["rules_only_cpu_ns_per_row"] = Math.Round(Median(rulesOnly.Select(t => t.CpuSeconds)) * 1e9 / rows, 1);
                result["rules_and_filter_cpu_ns_per_row"] = Math.Round(Median(rulesAndFilter.Select(t => t.CpuSeconds)) * 1e9 / rows, 1);
                result["rules_only_rows_per_s"] = Math.Round(rows / Median(rulesOnly.Select(t => t.WallSeconds)));
                result["rules_and_filter_rows_per_s"] = Math.Round(rows / Median(rulesAndFilter.Select(t => t.WallSeconds)));
            }

            return result;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<long> ProvisionAsync(ProjectFileWriter writer, AllowedParticipants allowed, Stream input, Stream output, Action<ProjectFileResult> done, CancellationToken cancellationToken)
    {
        var result = await writer.WriteAsync(input, output, allowed, cancellationToken, computeSha256: false);
        done(result);
        return result.RowsIn;
    }

    /// <summary>Runs a path into a SHA-256 <see cref="HashingWriteStream"/> over <paramref name="output"/> (the blob writer's behaviour), and records the hash.</summary>
    private static async Task<long> HashedAsync(Stream output, Func<Stream, Task<long>> run, Func<string, bool> record)
    {
        await using var hashing = new HashingWriteStream(output, hash: true);
        var rows = await run(hashing);
        record(hashing.Sha256Hex()!);
        return rows;
    }

    /// <summary>The baseline: the same reader, batch writer and encoders as the provisioning path, with no rules.</summary>
    private static Task<long> CopyAsync(Stream input, Stream output, CancellationToken cancellationToken) =>
        RewriteAsync([], null, input, output, cancellationToken);

    private static async Task<long> RewriteAsync(TokenColumnRule[] rules, TokenRowFilter? filter, Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, IoBufferBytes, leaveOpen: true);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), IoBufferBytes, leaveOpen: true);
        return (await new CsvTokenRewriter(rules, null, filter).RewriteAsync(reader, writer, cancellationToken)).Rows;
    }

    /// <summary>The breakdown's filter: one public lookup a row (the writer's own filter batches them with prefetch).</summary>
    private sealed class ContainsFilter(string column, AllowedParticipants allowed) : TokenRowFilter(column)
    {
        public override void Select(ReadOnlySpan<byte> blocks, Span<bool> keep)
        {
            for (var k = 0; k < keep.Length; k++)
            {
                keep[k] = allowed.Contains(Linkage.Permissions.TokenBytes.FromBytes(blocks.Slice(k * 16, 16)));
            }
        }
    }

    private static async Task<Timing> TimeAsync(string input, string output, Func<Stream, Stream, CancellationToken, Task<long>> run, CancellationToken cancellationToken)
    {
        // The previous round's output is deleted untimed: truncating a large file on open costs time that varies with writeback.
        File.Delete(output);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        await using (var source = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous))
        await using (var target = new FileStream(output, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
        {
            await run(source, target, cancellationToken);
        }

        var wall = stopwatch.Elapsed.TotalSeconds;
        process.Refresh();
        return new Timing(wall, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
    }

    private sealed record Timing(double WallSeconds, double CpuSeconds);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>
    /// A curated LSOA11 version as the File 2 pipeline writes it: TRE id token, record date, TRE LSOA token (no empties:
    /// the spec drops rows without small-area permission), origin, availability date; ~90 bytes a row.
    /// </summary>
    private static async Task GenerateCuratedAsync(string path, int rows, byte[] people, BlockTokenCipher treGeo, CancellationToken cancellationToken)
    {
        var random = new Random(20261203);
        var lsoaTokens = new string[Lsoas];
        treGeo.EncryptBatch(Enumerable.Range(1, Lsoas).Select(n => "E01" + n.ToString("D6", CultureInfo.InvariantCulture)).ToArray(), lsoaTokens);
        string[] origins = ["HES APC", "HES A&E", "HES OP", "GDPPR"];
        await using var writer = new StreamWriter(path, new UTF8Encoding(false), new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, BufferSize = 1 << 20 });
        await writer.WriteAsync("cohortkey_e,record_date,lsoa11cd_e,origin,avail_from_dt\n");
        var line = new char[128];
        var epoch = new DateOnly(2000, 1, 1);
        var population = people.Length / 16;
        for (var row = 0; row < rows; row++)
        {
            var at = 0;
            TokenCodec.Encode(people.AsSpan(random.Next(population) * 16, 16), line.AsSpan(at));
            at += TokenCodec.TokenChars;
            line[at++] = ',';
            var date = epoch.AddDays(random.Next(9000));
            date.TryFormat(line.AsSpan(at), out var written, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            at += written;
            line[at++] = ',';
            lsoaTokens[random.Next(Lsoas)].CopyTo(line.AsSpan(at));
            at += TokenCodec.TokenChars;
            line[at++] = ',';
            var origin = origins[random.Next(origins.Length)];
            origin.CopyTo(line.AsSpan(at));
            at += origin.Length;
            line[at++] = ',';
            date.AddDays(random.Next(30, 400)).TryFormat(line.AsSpan(at), out written, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            at += written;
            line[at++] = '\n';
            await writer.WriteAsync(line.AsMemory(0, at), cancellationToken);
        }
    }
}
