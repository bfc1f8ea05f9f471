using System.Security.Cryptography;
using System.Text;
using Linkage.Core.Tests.File2;
using Linkage.Core.Tests.Keys;
using Linkage.File2;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Provisioning;

namespace Linkage.Core.Tests.Provisioning;

public sealed class ProjectFileWriterTests : IDisposable
{
    private const string LsoaHeader = "cohortkey_e,record_date,lsoa11cd_e,origin,avail_from_dt";

    private readonly BlockTokenCipher _treId = new(BlockTokenCipherTests.Key(11), "processor-id/v2");
    private readonly BlockTokenCipher _treGeo = new(BlockTokenCipherTests.Key(12), "tre-geography/v1");
    private readonly BlockTokenCipher _p1Id = new(BlockTokenCipherTests.Key(13), "project-id:LLC_0001/v1");
    private readonly BlockTokenCipher _p1Geo = new(BlockTokenCipherTests.Key(14), "project-geo:LLC_0001/v1");
    private readonly BlockTokenCipher _p2Id = new(BlockTokenCipherTests.Key(15), "project-id:LLC_0002/v1");
    private readonly BlockTokenCipher _p2Geo = new(BlockTokenCipherTests.Key(16), "project-geo:LLC_0002/v1");

    private static readonly DatasetSpec Lsoa = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
    private static readonly DatasetSpec Imd = File2World.ShippedSpec("imd2019_lsoa11");

    public void Dispose()
    {
        foreach (var c in new[] { _treId, _treGeo, _p1Id, _p1Geo, _p2Id, _p2Geo })
        {
            c.Dispose();
        }
    }

    /// <summary>A curated LSOA11 version: person i is "S{i}" (TRE id = treId.Encrypt), LSOA E01{n} or empty; odd fields quoted.</summary>
    private (string Csv, List<(string Person, string Lsoa, string Other)> Rows) CuratedLsoa(int rows, int people)
    {
        var list = new List<(string, string, string)>();
        var sb = new StringBuilder(LsoaHeader).Append('\n');
        string[] origins = ["HES APC", "\"HES, OP\"", "'=GDPPR", "\"say \"\"hi\"\"\""];
        for (var r = 0; r < rows; r++)
        {
            var person = $"S{r % people}";
            var lsoa = r % 7 == 3 ? "" : $"E01{r % 40:D6}";
            var rest = $"2020-01-{(r % 28) + 1:D2}";
            var tail = $"{origins[r % origins.Length]},{(r % 5 == 0 ? "" : "2021-02-03")}";
            sb.Append(_treId.Encrypt(person)).Append(',').Append(rest).Append(',')
              .Append(lsoa.Length == 0 ? "" : _treGeo.Encrypt(lsoa)).Append(',').Append(tail).Append('\n');
            list.Add((person, lsoa, rest + "|" + tail));
        }

        return (sb.ToString(), list);
    }

    private AllowedParticipants Allowed(IEnumerable<string> people) => AllowedParticipants.FromTokens(people.Select(p => _treId.Encrypt(p)));

    private static async Task<(string Output, byte[] Bytes, ProjectFileResult Result)> Write(ProjectFileWriter writer, string csv, AllowedParticipants? allowed)
    {
        using var output = new MemoryStream();
        var result = await writer.WriteAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), output, allowed, CancellationToken.None);
        var bytes = output.ToArray();
        return (Encoding.UTF8.GetString(bytes), bytes, result);
    }

    private ProjectFileWriter Project1(DatasetSpec spec, int batchRows = 4) =>
        new(spec, _treId, _p1Id, _treGeo, _p1Geo, new CsvTokenRewriterOptions { BatchRows = batchRows });

    private ProjectFileWriter Project2(DatasetSpec spec, int batchRows = 4) =>
        new(spec, _treId, _p2Id, _treGeo, _p2Geo, new CsvTokenRewriterOptions { BatchRows = batchRows });

    /// <summary>Splits the data lines (quoted fields in this data never hold a newline) into id, date, lsoa and the rest as written.</summary>
    private static List<(string Id, string Date, string Lsoa, string Tail)> Lines(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(LsoaHeader, lines[0]);
        return lines.Skip(1).Select(l =>
        {
            var parts = l.Split(',', 4);
            return (parts[0], parts[1], parts[2], parts[3]);
        }).ToList();
    }

    [Fact]
    public async Task Ids_and_lsoas_are_rekeyed_to_the_projects_keys_and_every_other_byte_is_copied()
    {
        var (csv, rows) = CuratedLsoa(rows: 50, people: 12);
        var allowedPeople = Enumerable.Range(0, 12).Where(i => i % 4 != 1).Select(i => $"S{i}").ToHashSet();
        var (output, _, result) = await Write(Project1(Lsoa), csv, Allowed(allowedPeople));

        var expected = rows.Where(r => allowedPeople.Contains(r.Person)).ToList();
        var lines = Lines(output);
        Assert.Equal(expected.Count, lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            // project token = projectCipher.Encrypt(plain) where TRE token = treCipher.Encrypt(plain).
            Assert.Equal(_p1Id.Encrypt(expected[i].Person), lines[i].Id);
            Assert.Equal(expected[i].Person, _p1Id.Decrypt(lines[i].Id));
            Assert.Equal(expected[i].Lsoa.Length == 0 ? "" : _p1Geo.Encrypt(expected[i].Lsoa), lines[i].Lsoa);
            Assert.Equal(expected[i].Other, lines[i].Date + "|" + lines[i].Tail);
        }

        // The non-token columns, byte for byte: the output with its token fields put back equals the input's rows kept.
        var inputLines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Where((_, r) => allowedPeople.Contains(rows[r].Person)).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            var parts = inputLines[i].Split(',', 4);
            Assert.Equal(parts[1], lines[i].Date);
            Assert.Equal(parts[3], lines[i].Tail);
        }

        Assert.Equal(50, result.RowsIn);
        Assert.Equal(expected.Count, result.RowsWritten);
        Assert.Equal(50 - expected.Count, result.RowsLeftOut);
        Assert.Equal(allowedPeople.Count, result.ParticipantsWritten);
        Assert.Equal("project-id:LLC_0001/v1", result.KeyVersions["cohortkey_e"]);
        Assert.Equal("project-geo:LLC_0001/v1", result.KeyVersions["lsoa11cd_e"]);
    }

    [Fact]
    public async Task A_row_of_a_person_outside_the_allowed_set_is_never_written_in_any_form()
    {
        var (csv, rows) = CuratedLsoa(rows: 200, people: 30);
        var outsiders = new[] { "S3", "S17", "S29" };
        var (output, _, result) = await Write(Project1(Lsoa, batchRows: 7), csv, Allowed(Enumerable.Range(0, 30).Select(i => $"S{i}").Except(outsiders)));

        foreach (var outsider in outsiders)
        {
            Assert.DoesNotContain(_treId.Encrypt(outsider), output, StringComparison.Ordinal);
            Assert.DoesNotContain(_p1Id.Encrypt(outsider), output, StringComparison.Ordinal);
        }

        Assert.Equal(rows.Count(r => outsiders.Contains(r.Person)), result.RowsLeftOut);
        Assert.Equal(27, result.ParticipantsWritten);
        Assert.Equal(result.RowsIn, result.RowsWritten + result.RowsLeftOut);

        // No TRE token survives at all: every id and LSOA is re-keyed.
        foreach (var (person, lsoa, _) in rows)
        {
            Assert.DoesNotContain(_treId.Encrypt(person), output, StringComparison.Ordinal);
            if (lsoa.Length > 0)
            {
                Assert.DoesNotContain(_treGeo.Encrypt(lsoa), output, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8192)]
    public async Task Every_batch_size_keeps_exactly_the_allowed_rows_in_order(int batchRows)
    {
        var (csv, rows) = CuratedLsoa(rows: 101, people: 101);
        var random = new Random(batchRows);
        var allowedPeople = rows.Select(r => r.Person).Where(_ => random.Next(3) > 0).ToHashSet();
        var (output, _, result) = await Write(Project1(Lsoa, batchRows), csv, Allowed(allowedPeople));
        Assert.Equal(rows.Where(r => allowedPeople.Contains(r.Person)).Select(r => _p1Id.Encrypt(r.Person)), Lines(output).Select(l => l.Id));
        Assert.Equal(allowedPeople.Count, result.ParticipantsWritten);
    }

    [Fact]
    public async Task An_empty_allowed_set_writes_the_header_only()
    {
        var (csv, _) = CuratedLsoa(rows: 10, people: 3);
        var (output, _, result) = await Write(Project1(Lsoa), csv, AllowedParticipants.FromTokens([]));
        Assert.Equal(LsoaHeader + "\n", output);
        Assert.Equal(10, result.RowsLeftOut);
        Assert.Equal(0, result.ParticipantsWritten);
    }

    [Fact]
    public async Task Two_projects_files_share_no_id_token_and_no_lsoa_token_but_each_joins_its_own_imd_table()
    {
        var (csv, _) = CuratedLsoa(rows: 120, people: 20);
        var everyone = Allowed(Enumerable.Range(0, 20).Select(i => $"S{i}"));
        var one = Lines((await Write(Project1(Lsoa), csv, everyone)).Output);
        var two = Lines((await Write(Project2(Lsoa), csv, everyone)).Output);

        Assert.Empty(one.Select(l => l.Id).Intersect(two.Select(l => l.Id)));
        var lsoasOne = one.Select(l => l.Lsoa).Where(l => l.Length > 0).ToHashSet();
        var lsoasTwo = two.Select(l => l.Lsoa).Where(l => l.Length > 0).ToHashSet();
        Assert.Empty(lsoasOne.Intersect(lsoasTwo));

        // The IMD reference version (TRE geography tokens), provisioned to each project.
        var imd = "lsoa11cd_e,imd_decile\n" + string.Concat(Enumerable.Range(0, 40).Select(n => $"{_treGeo.Encrypt($"E01{n:D6}")},{(n % 10) + 1}\n"));
        var imdOne = (await Write(Project1(Imd), imd, null)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        var imdTwo = (await Write(Project2(Imd), imd, null)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        Assert.Subset(imdOne, lsoasOne);
        Assert.Subset(imdTwo, lsoasTwo);
        Assert.Empty(lsoasOne.Intersect(imdTwo));
        Assert.Empty(lsoasTwo.Intersect(imdOne));
    }

    [Fact]
    public async Task Reference_rows_are_all_kept_with_the_key_column_rekeyed()
    {
        var imd = "lsoa11cd_e,imd_decile\n" + string.Concat(Enumerable.Range(0, 25).Select(n => $"{_treGeo.Encrypt($"E01{n:D6}")},{(n % 10) + 1}\n"));
        var (output, _, result) = await Write(Project1(Imd, batchRows: 6), imd, null);
        var expected = "lsoa11cd_e,imd_decile\n" + string.Concat(Enumerable.Range(0, 25).Select(n => $"{_p1Geo.Encrypt($"E01{n:D6}")},{(n % 10) + 1}\n"));
        Assert.Equal(expected, output);
        Assert.Equal(25, result.RowsIn);
        Assert.Equal(25, result.RowsWritten);
        Assert.Equal(0, result.RowsLeftOut);
        Assert.Null(result.ParticipantsWritten);
    }

    [Fact]
    public async Task The_allowed_set_is_required_for_people_and_refused_for_places()
    {
        var (csv, _) = CuratedLsoa(rows: 3, people: 3);
        await Assert.ThrowsAsync<ArgumentException>(() => Write(Project1(Lsoa), csv, null));
        await Assert.ThrowsAsync<ArgumentException>(() => Write(Project1(Imd), "lsoa11cd_e,imd_decile\n", AllowedParticipants.FromTokens([])));
        Assert.Throws<ArgumentException>(() => new ProjectFileWriter(Lsoa, null, null, _treGeo, _p1Geo));
        _ = new ProjectFileWriter(Imd, null, null, _treGeo, _p1Geo);
    }

    [Fact]
    public async Task The_output_is_deterministic_and_its_hash_is_the_sha256_of_the_bytes_written()
    {
        var (csv, _) = CuratedLsoa(rows: 300, people: 40);
        var allowed = Allowed(Enumerable.Range(0, 40).Where(i => i % 3 != 0).Select(i => $"S{i}"));
        var first = await Write(Project1(Lsoa, batchRows: 16), csv, allowed);
        var second = await Write(Project1(Lsoa, batchRows: 5), csv, allowed);
        Assert.Equal(first.Bytes, second.Bytes);
        Assert.Equal(first.Result.Sha256, second.Result.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.Bytes)), first.Result.Sha256);
        Assert.Equal(first.Bytes.Length, first.Result.Bytes);

        var other = await Write(Project2(Lsoa), csv, allowed);
        Assert.NotEqual(first.Result.Sha256, other.Result.Sha256);
    }

    [Fact]
    public async Task A_malformed_token_stops_the_run_naming_row_and_column_never_the_value()
    {
        var (csv, _) = CuratedLsoa(rows: 9, people: 9);
        var lines = csv.Split('\n');
        var bad = "E01999999-not-a-token!";
        var fields = lines[6].Split(',');
        fields[2] = bad;
        lines[6] = string.Join(',', fields);
        var allowed = Allowed(Enumerable.Range(0, 9).Select(i => $"S{i}"));
        var e = await Assert.ThrowsAsync<CsvTokenException>(() => Write(Project1(Lsoa), string.Join('\n', lines), allowed));
        Assert.Equal(6, e.DataRow);
        Assert.Equal("lsoa11cd_e", e.Column);
        Assert.DoesNotContain(bad, e.Message, StringComparison.Ordinal);

        // A row with no person key cannot be judged: it stops the run too.
        lines = csv.Split('\n');
        var firstComma = lines[2].IndexOf(',', StringComparison.Ordinal);
        var token = lines[2][..firstComma];
        lines[2] = lines[2][firstComma..];
        e = await Assert.ThrowsAsync<CsvTokenException>(() => Write(Project1(Lsoa), string.Join('\n', lines), allowed));
        Assert.Equal(2, e.DataRow);
        Assert.Equal("cohortkey_e", e.Column);

        // A malformed id of a person who would be left out still stops the run.
        lines = csv.Split('\n');
        lines[4] = "AAAA!!!!!!!!!!!!!!!!!!" + lines[4][22..];
        e = await Assert.ThrowsAsync<CsvTokenException>(() => Write(Project1(Lsoa), string.Join('\n', lines), AllowedParticipants.FromTokens([token])));
        Assert.Equal(4, e.DataRow);
        Assert.Equal("cohortkey_e", e.Column);
        Assert.DoesNotContain("AAAA!!!!", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_names_follow_dataset_version_and_date()
    {
        Assert.Equal("nhse_lsoa11_dataset_mapping_v0004_20250807.csv", ProjectFileWriter.FileName("nhse_lsoa11_dataset_mapping", 4, new DateOnly(2025, 8, 7)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProjectFileWriter.FileName("x", 0, new DateOnly(2025, 8, 7)));
    }
}

public sealed class AllowedParticipantsTests
{
    [Fact]
    public void Members_from_tokens_blocks_and_token_bytes_agree_and_duplicates_count_once()
    {
        using var tre = new BlockTokenCipher(BlockTokenCipherTests.Key(21), "processor-id/v1");
        var tokens = Enumerable.Range(0, 5000).Select(i => tre.Encrypt($"P{i}")).ToList();
        var fromTokens = AllowedParticipants.FromTokens(tokens.Concat(tokens.Take(100)));
        var blocks = new byte[tokens.Count * 16];
        for (var i = 0; i < tokens.Count; i++)
        {
            TokenCodec.Decode(tokens[i], blocks.AsSpan(i * 16, 16));
        }

        var fromBlocks = AllowedParticipants.FromBlocks(blocks);
        var fromBytes = AllowedParticipants.FromTokenBytes(tokens.Select(t => TokenBytes.Parse(t)));
        foreach (var set in new[] { fromTokens, fromBlocks, fromBytes })
        {
            Assert.Equal(5000, set.Count);
            Assert.All(tokens, t => Assert.True(set.Contains(t)));
            Assert.False(set.Contains(tre.Encrypt("P5000")));
            Assert.False(set.Contains("not a token"));
            Assert.True(set.MemoryBytes <= 5000 * 16 * 4 + 16);
        }
    }

    [Fact]
    public void The_all_zero_block_and_structured_blocks_are_members_like_any_other()
    {
        var blocks = new byte[17 * 16];
        for (var i = 1; i < 17; i++)
        {
            blocks[(i * 16) + 15] = (byte)i; // 0, 1, 2, … in the low bytes only
        }

        var set = AllowedParticipants.FromBlocks(blocks);
        Assert.Equal(17, set.Count);
        Assert.True(set.Contains(default(TokenBytes)));
        Assert.True(set.Contains(new TokenBytes(0, 16)));
        Assert.False(set.Contains(new TokenBytes(0, 17)));
        Assert.False(AllowedParticipants.FromBlocks(blocks.AsSpan(16)).Contains(default(TokenBytes)));
    }

    [Fact]
    public void A_malformed_member_is_refused_without_echoing_it()
    {
        var e = Assert.Throws<InvalidTokenException>(() => AllowedParticipants.FromTokens(["AAAAAAAAAAAAAAAAAAAAAA", "secret-looking-value"]));
        Assert.Contains("Member 2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Batched_lookups_agree_with_single_lookups_for_every_batch_length()
    {
        var members = new byte[3000 * 16];
        new Random(7).NextBytes(members);
        var set = AllowedParticipants.FromBlocks(members);
        var queries = new byte[40 * 16];
        for (var q = 0; q < 40; q++)
        {
            // Every other query a member, the rest unknown.
            if (q % 2 == 0)
            {
                members.AsSpan(q * 16 * 7, 16).CopyTo(queries.AsSpan(q * 16));
            }
            else
            {
                queries[(q * 16) + 3] = (byte)q;
            }
        }

        for (var n = 0; n <= 40; n++)
        {
            var slots = new int[n];
            set.SlotsOf(queries.AsSpan(0, n * 16), slots);
            for (var q = 0; q < n; q++)
            {
                Assert.Equal(set.SlotOf(queries.AsSpan(q * 16, 16)), slots[q]);
                Assert.Equal(q % 2 == 0, slots[q] >= 0);
            }
        }
    }
}
