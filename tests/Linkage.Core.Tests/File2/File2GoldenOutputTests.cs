using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Linkage.File2;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.Core.Tests.File2;

/// <summary>
/// Guards the pipeline's exact behaviour across performance work: fixed keys and a seeded, varied File 2 (every drop
/// reason, rejects, quoting, CRLF, non-ASCII, duplicates, generalisation, spills) must give byte-identical output and
/// an identical result (counts, rejects, risk report, metadata). The digests were recorded from the pipeline before
/// the speed-up; a change in behaviour changes them.
/// </summary>
public sealed class File2GoldenOutputTests : IDisposable
{
    private readonly BlockTokenCipher _ttp = new(Key(1), "ttp-v1");
    private readonly BlockTokenCipher _id = new(Key(2), "proc-id-v3");
    private readonly BlockTokenCipher _geo = new(Key(3), "tre-geo-v2");
    private readonly List<(string Token, PermissionFlags Flags)> _participants = [];

    public void Dispose()
    {
        _ttp.Dispose();
        _id.Dispose();
        _geo.Dispose();
    }

    // Every case runs with one worker and with four (more than this machine's cores): batches are filtered and composed
    // in whatever order the workers finish, so equal digests prove the output does not depend on that order.
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 4)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    public async Task Lsoa_mapping_output_and_result_are_unchanged(bool spill, int workers)
    {
        var (tokens, permissions) = World(400);
        var csv = LsoaCsv(tokens, 30_000, new Random(7));

        // The spec as before decision 0514 (blank, reject): the same behaviour gives the same digest.
        string digest = await RunDigestAsync(File2World.LsoaSpecBlankingAndRejecting(), permissions, csv, spill, workers);

        // Changed once on purpose: rows with the geography blanked are now counted after deduplication (2839 → 2744);
        // the output bytes and every other count are as before.
        Assert.Equal("109FDFBFC1777CE2B1E1D929647E79CD15A58E3C981D94D79C1EB330B26FF0F7", digest);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 4)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    public async Task Hes_apc_output_and_result_are_unchanged(bool spill, int workers)
    {
        var (tokens, permissions) = World(300);
        var csv = HesCsv(tokens, 20_000, new Random(11));

        string digest = await RunDigestAsync(File2World.ShippedSpec("nhse_hes_apc"), permissions, csv, spill, workers);

        // Changed once on purpose: blanked geographies counted after deduplication (1734 → 1683); output bytes as before.
        Assert.Equal("4100B8C16BBE66CF9766213FE7D2D8C8EAA05BB2AC6004FBCB5133678E590132", digest);
    }

    private static byte[] Key(byte seed) => Enumerable.Range(0, 32).Select(i => (byte)((i * 31) + seed)).ToArray();

    private (List<string> Tokens, PermissionSnapshotSet Permissions) World(int count)
    {
        var all = PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.SmallArea;
        var tokens = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var flags = (i % 20) switch
            {
                0 => all & ~PermissionFlags.Active,
                1 => all & ~PermissionFlags.NhsE,
                2 => all | PermissionFlags.NationalOptOutApplies,
                3 or 4 => all & ~PermissionFlags.SmallArea,
                _ => all,
            };
            string token = _ttp.Encrypt($"G{i}");
            _participants.Add((token, flags));
            tokens.Add(token);
        }

        var writer = new PermissionSnapshotWriter(new PermissionSnapshotHeader("ALSPAC", 3, "ttp-v1", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        foreach (var (token, flags) in _participants)
        {
            writer.Add(token, flags);
        }

        using var buffer = new MemoryStream();
        writer.WriteAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
        buffer.Position = 0;
        var snapshot = PermissionSnapshot.ReadAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
        return (tokens, PermissionSnapshotSet.Merge([snapshot]));
    }

    private string Unknown(Random random) => _ttp.Encrypt($"U{random.Next(50)}");

    private byte[] LsoaCsv(List<string> tokens, int rows, Random random)
    {
        var sb = new StringBuilder("cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt\n");
        string[] origins = ["HES APC", "HES A&E", "HES OP", "GDPPR"];
        string previous = "";
        for (int i = 0; i < rows; i++)
        {
            if (previous.Length > 0 && random.Next(30) == 0)
            {
                sb.Append(previous);
                continue;
            }

            string token = random.Next(50) == 0 ? Unknown(random) : tokens[random.Next(tokens.Count)];
            string date = new DateOnly(2000, 1, 1).AddDays(random.Next(9000)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string lsoa = random.Next(40) == 0 ? "" : random.Next(200) == 0 ? "É0100001" : $"E01{random.Next(3000):D6}";
            string origin = origins[random.Next(origins.Length)];
            string avail = random.Next(25) == 0 ? "" : new DateOnly(2001, 1, 1).AddDays(random.Next(9000)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string line = random.Next(400) switch
            {
                0 => $"{token},{date},{lsoa},{origin}",                          // too few fields
                1 => $"{token},2020-02-30,{lsoa},{origin},{avail}",             // bad date
                2 => $"{token},{date},{lsoa},HES XX,{avail}",                   // not in the code list
                3 => $"{token},{date},{lsoa},\"{origin}\",{avail}",             // quoted, valid
                4 => $"{token},{date},\"E01,00001\",{origin},{avail}",         // quoted comma, too long
                5 => $"{token[..21]},{date},{lsoa},{origin},{avail}",           // not a token
                6 => $"{token},{date},E0100000123,{origin},{avail}",            // longer than 9
                7 => $"{token},{date},{lsoa},{origin},\"20\"\"20-01-01\"",      // doubled quote, bad date
                _ => $"{token},{date},{lsoa},{origin},{avail}",
            };
            string end = random.Next(10) == 0 ? "\r\n" : "\n";
            previous = line + end;
            sb.Append(previous);
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private byte[] HesCsv(List<string> tokens, int rows, Random random)
    {
        var sb = new StringBuilder("cohortkey_e,epikey,admidate,disdate,epistart,epiend,diag_01,opertn_01,admimeth,sex,startage,lsoa11cd,procode\n");
        string[] meth = ["11", "12", "21", "22", "31"];
        string[] sex = ["1", "2", "9", "0"];
        string[] diag = ["I21X", "J18,9", "C50\"1", "E11", "", "Z999"];
        string previous = "";
        for (int i = 0; i < rows; i++)
        {
            if (previous.Length > 0 && random.Next(40) == 0)
            {
                sb.Append(previous);
                continue;
            }

            string token = random.Next(60) == 0 ? Unknown(random) : tokens[random.Next(tokens.Count)];
            var admit = new DateOnly(2010, 1, 1).AddDays(random.Next(4000));
            string d(DateOnly x) => x.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string dg = diag[random.Next(diag.Length)];
            string dgField = dg.Contains(',', StringComparison.Ordinal) || dg.Contains('"', StringComparison.Ordinal) ? "\"" + dg.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : dg;
            string age = random.Next(100) == 0 ? "-3" : random.Next(300) == 0 ? "x" : random.Next(0, 110).ToString(CultureInfo.InvariantCulture);
            string lsoa = random.Next(10) == 0 ? "" : $"E01{random.Next(500):D6}";
            string line = $"{token},{random.NextInt64(0, 1_000_000)},{d(admit)},{d(admit.AddDays(random.Next(20)))},{d(admit)},{d(admit.AddDays(random.Next(5)))}," +
                          $"{dgField},K{random.Next(100):D2},{meth[random.Next(meth.Length)]},{sex[random.Next(sex.Length)]},{age},{lsoa},R{random.Next(30)}X";
            previous = line + "\n";
            sb.Append(previous);
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private async Task<string> RunDigestAsync(DatasetSpec spec, PermissionSnapshotSet permissions, byte[] csv, bool spill, int workers)
    {
        var options = new File2PipelineOptions
        {
            MaxRejectShare = 0.5,
            BatchRows = 512,
            Workers = workers,
            IndexEntriesInMemory = spill ? 1024 : null,
            StageBytesInMemory = spill ? 1 << 20 : null,
        };
        var pipeline = new File2Pipeline(spec, permissions, _id, _geo, options);
        using var output = new MemoryStream();
        var result = await pipeline.RunAsync(new MemoryStream(csv), output, CancellationToken.None);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(spill, result.Statistics.DedupSpilled);

        var text = new StringBuilder();
        text.Append(Convert.ToHexString(SHA256.HashData(output.ToArray()))).Append('\n');
        var c = result.Counts;
        text.Append(CultureInfo.InvariantCulture, $"{c.RowsIn} {c.RowsWritten} {c.RowsRejected} {c.RowsWithGeographyBlanked}\n");
        foreach (var (reason, n) in c.Dropped.OrderBy(p => p.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"{reason}={n}\n");
        }

        foreach (var r in result.Rejects)
        {
            text.Append(CultureInfo.InvariantCulture, $"{r.Line}|{r.Column}|{r.Reason}\n");
        }

        foreach (var (key, n) in result.RejectCountsByColumnAndReason.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{key}={n}\n");
        }

        var risk = result.Risk!;
        text.Append(CultureInfo.InvariantCulture, $"{risk.MarginalCells} {risk.SmallCellsTruncated} {risk.QuasiIdentifierCombinations} {risk.RareCombinations} {risk.RecordsInRareCombinations} {risk.RiskTrackingComplete}\n");
        foreach (var cell in risk.SmallCells)
        {
            text.Append(cell.Marginal).Append('|').Append(cell.Cell).Append('\n');
        }

        foreach (var col in risk.IdentifierLookingColumns)
        {
            text.Append(CultureInfo.InvariantCulture, $"{col.Column} {col.NhsNumberShaped} {col.PostcodeShaped} {col.NonEmpty}\n");
        }

        var m = result.Metadata!;
        text.Append(CultureInfo.InvariantCulture, $"{m.ObservationCount} {m.VariableCount} {m.IdKeyVersion} {m.GeographyKeyVersion}\n");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
