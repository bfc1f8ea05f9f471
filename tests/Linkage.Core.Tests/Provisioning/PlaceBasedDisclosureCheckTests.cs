using System.Globalization;
using System.Text;
using System.Text.Json;
using Linkage.Core.Tests.File2;
using Linkage.File2;
using Linkage.Permissions;
using Linkage.Provisioning;

namespace Linkage.Core.Tests.Provisioning;

/// <summary>
/// The English IMD 2019 LSOA file's published shape, built synthetically: 32,844 LSOAs in 317 local authorities
/// (City of London 6 LSOAs, Isles of Scilly 1), a score, a rank (1 = most deprived) and a decile, and domain ranks and
/// deciles. Values are made up; the shape — how many areas share each value — is the real one.
/// </summary>
internal static class ImdShape
{
    public const int Lsoas = 32_844;

    public static readonly string[] Columns =
        ["lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm", "imd_score", "imd_rank", "imd_decile", "income_rank", "income_decile", "employment_rank", "employment_decile"];

    private static readonly Lazy<List<string[]>> Table = new(Build);

    public static List<string[]> Rows => Table.Value;

    public static int Index(string column) => Array.IndexOf(Columns, column);

    private static List<string[]> Build()
    {
        var lads = new List<(string Code, string Name, int Size)> { ("E09000001", "City of London", 6), ("E06000053", "Isles of Scilly", 1) };
        var assigned = 7;
        for (var i = 0; i < 315; i++)
        {
            var size = i < 314 ? 104 + (((i % 9) - 4) * 8) : Lsoas - assigned;
            lads.Add(($"E0{7 + (i % 3)}{i:D6}", $"Local Authority {i:D3}", size));
            assigned += size;
        }

        var random = new Random(2019);
        var rows = new List<string[]>(Lsoas);
        var n = 0;
        foreach (var (code, name, size) in lads)
        {
            for (var k = 0; k < size; k++)
            {
                var score = Math.Round(0.5 + (random.NextDouble() * 90), 3).ToString("F3", CultureInfo.InvariantCulture);
                rows.Add([$"E01{++n:D6}", $"{name} {k + 1:D3}{(char)('A' + (k % 4))}", code, name, score, "", "", "", "", "", ""]);
            }
        }

        Rank(rows, Index("imd_score"), Index("imd_rank"), Index("imd_decile"));
        var income = rows.Select(_ => random.NextDouble()).ToArray();
        var employment = rows.Select(_ => random.NextDouble()).ToArray();
        RankBy(rows, income, Index("income_rank"), Index("income_decile"));
        RankBy(rows, employment, Index("employment_rank"), Index("employment_decile"));
        return rows;
    }

    private static void Rank(List<string[]> rows, int scoreColumn, int rankColumn, int decileColumn) =>
        RankBy(rows, rows.Select(r => double.Parse(r[scoreColumn], CultureInfo.InvariantCulture)).ToArray(), rankColumn, decileColumn);

    /// <summary>Rank 1 = highest value (most deprived); decile = ⌈rank × 10 / n⌉, as published.</summary>
    private static void RankBy(List<string[]> rows, double[] value, int rankColumn, int decileColumn)
    {
        var order = Enumerable.Range(0, rows.Count).OrderByDescending(i => value[i]).ThenBy(i => i).ToArray();
        for (var rank = 1; rank <= order.Length; rank++)
        {
            rows[order[rank - 1]][rankColumn] = rank.ToString(CultureInfo.InvariantCulture);
            rows[order[rank - 1]][decileColumn] = (((rank * 10L) + Lsoas - 1) / Lsoas).ToString(CultureInfo.InvariantCulture);
        }
    }
}

public sealed class PlaceBasedDisclosureCheckTests
{
    private static PlaceBasedDisclosureReport Check(params string[] columns)
    {
        var check = new PlaceBasedDisclosureCheck(columns);
        var at = columns.Select(ImdShape.Index).ToArray();
        foreach (var row in ImdShape.Rows)
        {
            check.Add(row[0], at.Select(i => row[i]).ToArray());
        }

        return check.Report();
    }

    [Fact]
    public void The_synthetic_table_has_the_published_shape()
    {
        Assert.Equal(ImdShape.Lsoas, ImdShape.Rows.Count);
        Assert.Equal(317, ImdShape.Rows.Select(r => r[2]).Distinct().Count());
        Assert.Equal(6, ImdShape.Rows.Count(r => r[3] == "City of London"));
        Assert.Equal(ImdShape.Lsoas, ImdShape.Rows.Select(r => r[5]).Distinct().Count());
    }

    [Fact]
    public void The_imd_decile_alone_passes()
    {
        var report = Check("imd_decile");
        Assert.True(report.Passes, report.Describe("LSOA"));
        Assert.Equal(10, report.Combinations);
        Assert.Equal(ImdShape.Lsoas, report.Keys);
        Assert.Empty(report.SmallCombinations);
    }

    [Fact]
    public void Deciles_of_every_domain_together_pass_only_while_each_combination_covers_ten_areas()
    {
        // Three deciles give up to 1,000 combinations of ~33 LSOAs each on average; some fall under ten.
        var report = Check("imd_decile", "income_decile", "employment_decile");
        Assert.Equal(report.CombinationsBelowThreshold == 0, report.Passes);
        Assert.Empty(report.ColumnsFailingAlone);
    }

    [Fact]
    public void The_imd_rank_fails_it_is_unique_per_lsoa()
    {
        var report = Check("imd_rank");
        Assert.False(report.Passes);
        Assert.Equal(ImdShape.Lsoas, report.Combinations);
        Assert.Equal(ImdShape.Lsoas, report.CombinationsBelowThreshold);
        Assert.Equal(ImdShape.Lsoas, report.KeysInCombinationsBelowThreshold);
        Assert.Equal(["imd_rank"], report.ColumnsFailingAlone);
        Assert.True(report.SmallCombinationsTruncated);
        Assert.Equal(100, report.SmallCombinations.Count);
        Assert.All(report.SmallCombinations, c => Assert.Equal(1, c.Keys));
    }

    [Fact]
    public void The_imd_score_fails()
    {
        var report = Check("imd_score");
        Assert.False(report.Passes);
        Assert.True(report.CombinationsBelowThreshold > ImdShape.Lsoas / 2);
    }

    [Fact]
    public void The_decile_with_the_local_authority_name_fails_for_small_local_authorities()
    {
        var report = Check("imd_decile", "lad19nm");
        Assert.False(report.Passes);
        Assert.Contains(report.SmallCombinations, c => c.Values[1] == "City of London" && c.Keys <= 6);
        Assert.Contains(report.SmallCombinations, c => c.Values[1] == "Isles of Scilly" && c.Keys == 1);
        Assert.Equal(["lad19nm"], report.ColumnsFailingAlone);
        Assert.Contains(report.ColumnsAlone, c => c.Column == "imd_decile" && c.ValuesBelowThreshold == 0);
    }

    [Fact]
    public void The_whole_published_file_fails_and_the_report_never_holds_a_key()
    {
        var report = Check([.. ImdShape.Columns.Skip(1)]);
        Assert.False(report.Passes);
        Assert.Equal(ImdShape.Lsoas, report.CombinationsBelowThreshold);
        Assert.Equal(["lsoa11nm", "imd_score", "imd_rank", "income_rank", "employment_rank"], report.ColumnsFailingAlone.Where(c => c != "lad19cd" && c != "lad19nm"));
        var text = JsonSerializer.Serialize(report) + report.Describe("LSOA");
        Assert.DoesNotContain("E01", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_rows_of_one_key_count_once_and_the_message_says_how_to_fix()
    {
        var check = new PlaceBasedDisclosureCheck(["decile"]);
        for (var i = 0; i < 9; i++)
        {
            check.Add("k" + i, ["1"]);
            check.Add("k" + i, ["1"]);
        }

        var report = check.Report();
        Assert.False(report.Passes);
        Assert.Equal(9, report.KeysInCombinationsBelowThreshold);
        var message = report.Describe("area");
        Assert.Contains("1 of 1 combinations of (decile) are shared by fewer than 10 areas", message, StringComparison.Ordinal);
        Assert.Contains("coarsen", message, StringComparison.Ordinal);
        Assert.DoesNotContain("k0", message, StringComparison.Ordinal);
        check.Add("k9", ["1"]);
        Assert.True(check.Report().Passes);
    }

    [Fact]
    public void A_table_past_the_row_limit_does_not_pass()
    {
        var check = new PlaceBasedDisclosureCheck(["decile"], threshold: 1, maxRows: 3);
        for (var i = 0; i < 4; i++)
        {
            check.Add("k" + i, ["1"]);
        }

        var report = check.Report();
        Assert.False(report.Complete);
        Assert.False(report.Passes);
        Assert.Contains("limit", report.Describe(), StringComparison.Ordinal);
    }
}

public sealed class ReferenceCurationPlaceCheckTests : IDisposable
{
    private readonly File2World _world = new();

    public void Dispose() => _world.Dispose();

    private static string Csv(params string[] columns)
    {
        var at = columns.Select(ImdShape.Index).ToArray();
        var sb = new StringBuilder(string.Join(',', columns)).Append('\n');
        foreach (var row in ImdShape.Rows)
        {
            sb.AppendJoin(',', at.Select(i => row[i])).Append('\n');
        }

        return sb.ToString();
    }

    private async Task<(File2Result Result, byte[] Output)> Curate(DatasetSpec spec, string csv)
    {
        var pipeline = new File2Pipeline(spec, PermissionSnapshotSet.Merge([]), _world.IdCipher, _world.GeoCipher);
        using var output = new MemoryStream();
        var result = await pipeline.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), output, CancellationToken.None);
        return (result, output.ToArray());
    }

    private static DatasetSpec ImdWith(string extraColumnJson) =>
        DatasetSpecLoader.Parse(
            File.ReadAllText(Path.Combine(File2World.RepoRoot, "config/datasets/imd2019_lsoa11.json"))
                .Replace("\"description\": \"IMD 2019 decile, 1 = most deprived 10% of LSOAs in England\" }", "\"description\": \"IMD 2019 decile, 1 = most deprived 10% of LSOAs in England\" },\n    " + extraColumnJson, StringComparison.Ordinal),
            "imd-variant.json");

    [Fact]
    public async Task The_shipped_imd_spec_with_deciles_is_curated()
    {
        var (result, output) = await Curate(File2World.ShippedSpec("imd2019_lsoa11"), Csv("lsoa11cd", "imd_decile"));
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(ImdShape.Lsoas, result.Counts.RowsWritten);
        Assert.NotNull(result.PlaceBased);
        Assert.True(result.PlaceBased!.Passes);
        Assert.Equal(["imd_decile"], result.PlaceBased.Columns);
        Assert.NotEmpty(output);
    }

    [Fact]
    public async Task A_reference_delivery_with_a_rank_column_is_rejected_and_nothing_is_written()
    {
        var spec = ImdWith("""{ "name": "imd_rank", "type": "integer", "rule": "keep", "required": true, "min": 1, "max": 32844, "description": "IMD rank" }""");
        var (result, output) = await Curate(spec, Csv("lsoa11cd", "imd_decile", "imd_rank"));
        Assert.Equal(File2Outcome.SinglesOutArea, result.Outcome);
        Assert.Empty(output);
        Assert.Null(result.Metadata);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("32,844 of 32,844 combinations of (imd_decile, imd_rank) are shared by fewer than 10 areas", problem, StringComparison.Ordinal);
        Assert.Contains("'imd_rank' has 32,844 of 32,844 values", problem, StringComparison.Ordinal);
        Assert.Contains("coarsen", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("E01", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(_world.GeoCipher.Encrypt("E01000001"), problem, StringComparison.Ordinal);
        Assert.Equal(["imd_rank"], result.PlaceBased!.ColumnsFailingAlone);
    }

    [Fact]
    public async Task A_reference_delivery_with_the_decile_per_local_authority_is_rejected()
    {
        var spec = ImdWith("""{ "name": "lad19nm", "type": "string", "rule": "keep", "required": true, "maxLength": 60, "description": "Local authority name" }""");
        var (result, output) = await Curate(spec, Csv("lsoa11cd", "imd_decile", "lad19nm"));
        Assert.Equal(File2Outcome.SinglesOutArea, result.Outcome);
        Assert.Empty(output);
        Assert.Contains("'lad19nm'", Assert.Single(result.Problems), StringComparison.Ordinal);
    }
}
