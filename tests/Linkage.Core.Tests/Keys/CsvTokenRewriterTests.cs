using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

public sealed class CsvTokenRewriterTests
{
    private static async Task<(string Output, CsvRewriteSummary Summary)> Rewrite(string csv, params TokenColumnRule[] rules)
    {
        using var input = new StringReader(csv);
        await using var output = new StringWriter();
        var summary = await new CsvTokenRewriter(rules, new CsvTokenRewriterOptions { BatchRows = 3 })
            .RewriteAsync(input, output, CancellationToken.None);
        return (output.ToString(), summary);
    }

    private static string[][] Rows(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')).ToArray();

    [Fact]
    public async Task Without_rules_it_copies_the_csv_unchanged_including_quoted_fields()
    {
        const string csv = "a,b,c\n1,\"x,y\",3\n4,\"say \"\"hi\"\"\",\n7,8,9\n10,11,12\n";
        var (output, summary) = await Rewrite(csv);
        Assert.Equal(csv, output);
        Assert.Equal(4, summary.Rows);
    }

    [Fact]
    public async Task The_processor_and_project_layers_follow_the_documented_chain()
    {
        using var ttp = new StudyIdTokenizer(BlockTokenCipherTests.Key(1), "ttp-person/v1");
        using var processor = new BlockTokenCipher(BlockTokenCipherTests.Key(2), "processor-id/v1");
        using var treGeo = new BlockTokenCipher(BlockTokenCipherTests.Key(3), "tre-geography/v1");
        using var projectId = new BlockTokenCipher(BlockTokenCipherTests.Key(4), "project-id:LLC_0001/v1");
        using var projectGeo = new BlockTokenCipher(BlockTokenCipherTests.Key(5), "project-geo:LLC_0001/v1");
        using var otherGeo = new BlockTokenCipher(BlockTokenCipherTests.Key(6), "project-geo:LLC_0002/v1");

        var ids = new[] { "A1", "A2", "A3", "A4", "A5" };
        var lsoas = new[] { "E01000001", "E01000002", "", "W01000009", "E01000001" };
        var ttpTokens = ids.Select(id => ttp.Tokenize("ALSPAC", id)).ToArray();
        var file2 = "cohortkey_e,record_date,lsoa11cd_e,origin\n" + string.Concat(
            ids.Select((_, i) => $"{ttpTokens[i]},2020-01-0{i + 1},{lsoas[i]},GP\n"));

        // Processor: TTP id → TRE id (a layer), LSOA → TRE geography token.
        var (curated, summary) = await Rewrite(file2,
            TokenColumnRule.AddLayer("cohortkey_e", processor, "tre_id"),
            TokenColumnRule.EncryptText("lsoa11cd_e", treGeo));
        Assert.StartsWith("tre_id,record_date,lsoa11cd_e,origin\n", curated, StringComparison.Ordinal);
        Assert.Equal("processor-id/v1", summary.KeyVersions["tre_id"]);
        Assert.Equal("tre-geography/v1", summary.KeyVersions["lsoa11cd_e"]);
        Assert.Equal(1, summary.EmptyValues);
        var curatedRows = Rows(curated);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(processor.ReencryptToken(ttpTokens[i]), curatedRows[i][0]);
            Assert.Equal(lsoas[i] == "" ? "" : treGeo.Encrypt(lsoas[i]), curatedRows[i][2]);
        }

        // No plaintext STUDY_ID, TTP token or LSOA code survives in any field.
        var plain = ids.Concat(ttpTokens).Concat(lsoas.Where(l => l != "")).ToHashSet();
        Assert.DoesNotContain(curatedRows.SelectMany(r => r), plain.Contains);

        // Project: TRE id → project id = E_project(TTP token); TRE LSOA token → E_projectGeo(LSOA).
        var (projectFile, _) = await Rewrite(curated,
            TokenColumnRule.Transcode("tre_id", processor, projectId, "project_id"),
            TokenColumnRule.Transcode("lsoa11cd_e", treGeo, projectGeo));
        var projectRows = Rows(projectFile);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(projectId.ReencryptToken(ttpTokens[i]), projectRows[i][0]);
        }

        // Inside the project, encrypted LSOAs join the project's encrypted IMD table; another project's do not.
        var imd = new[] { "E01000001", "E01000002", "W01000009" }.ToDictionary(l => projectGeo.Encrypt(l), l => l);
        Assert.All(projectRows.Where(r => r[2] != ""), r => Assert.True(imd.ContainsKey(r[2])));
        Assert.Equal("E01000001", imd[projectRows[0][2]]);
        Assert.Equal(projectRows[0][2], projectRows[4][2]);
        var otherImd = new[] { "E01000001", "E01000002", "W01000009" }.Select(l => otherGeo.Encrypt(l)).ToHashSet();
        Assert.DoesNotContain(projectRows, r => otherImd.Contains(r[2]));
    }

    [Fact]
    public async Task Re_keying_converts_tokens_from_an_old_key_version_to_the_new_one()
    {
        using var v1 = new BlockTokenCipher(BlockTokenCipherTests.Key(7), "project-id:LLC_0001/v1");
        using var v2 = new BlockTokenCipher(BlockTokenCipherTests.Key(8), "project-id:LLC_0001/v2");
        var inner = Enumerable.Range(0, 20).Select(i => v1.Encrypt($"P{i}")).ToArray();
        var csv = "project_id,value\n" + string.Concat(inner.Select((t, i) => $"{t},{i}\n"));
        var (rekeyed, summary) = await Rewrite(csv, TokenRekeying.Rule("project_id", v1, v2));
        Assert.Equal("project-id:LLC_0001/v2", summary.KeyVersions["project_id"]);
        var rows = Rows(rekeyed);
        for (var i = 0; i < inner.Length; i++)
        {
            Assert.Equal($"P{i}", v2.Decrypt(rows[i][0]));
            Assert.Equal(v2.Encrypt($"P{i}"), rows[i][0]);
            Assert.DoesNotContain(inner[i], rekeyed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Re_keying_a_batch_of_stored_tokens_matches_encrypting_under_the_new_version()
    {
        using var v1 = new BlockTokenCipher(BlockTokenCipherTests.Key(7), "tre-geography/v1");
        using var v2 = new BlockTokenCipher(BlockTokenCipherTests.Key(8), "tre-geography/v2");
        var values = Enumerable.Range(0, 9000).Select(i => $"E0{i:D7}").ToArray();
        var old = values.Select(v => v1.Encrypt(v)).ToArray();
        var rekeyed = new string[old.Length];
        TokenRekeying.RekeyBatch(old, rekeyed, v1, v2);
        Assert.Equal(values.Select(v => v2.Encrypt(v)), rekeyed);
        Assert.Throws<InvalidTokenException>(() => TokenRekeying.RekeyBatch(["bad"], new string[1], v1, v2));
    }

    [Fact]
    public async Task A_malformed_token_stops_the_rewrite_naming_row_and_column_but_not_the_value()
    {
        using var cipher = new BlockTokenCipher(BlockTokenCipherTests.Key(1), "k/v1");
        var good = cipher.Encrypt("x");
        var csv = $"id,v\n{good},1\n{good},2\nNHS9434765919,3\n";
        var error = await Assert.ThrowsAsync<CsvTokenException>(() => Rewrite(csv, TokenColumnRule.AddLayer("id", cipher)));
        Assert.Equal(3, error.DataRow);
        Assert.Equal("id", error.Column);
        Assert.DoesNotContain("9434765919", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NHS9434765919")] // an identifier, not a token
    [InlineData("AAAAAAAAAAAAAAAAAAAAAB")] // 22 base64url characters, but not canonical (low bits of the last set)
    [InlineData("AAAAAAAAAAAAAAAAAAAA+A")] // base64, not base64url
    [InlineData("AAAAAAAAAAAAAAAAAAAAA")] // 21 characters
    public async Task A_malformed_token_in_a_later_batch_stops_the_rewrite_at_its_own_row(string bad)
    {
        // Tokens are decoded as they are parsed, plain values padded in the flush: both must name the right row, in any batch.
        using var v1 = new BlockTokenCipher(BlockTokenCipherTests.Key(1), "k/v1");
        using var v2 = new BlockTokenCipher(BlockTokenCipherTests.Key(2), "k/v2");
        var good = v1.Encrypt("x");
        var lines = Enumerable.Range(1, 9).Select(row => row == 7 ? $"{bad},E01000001" : $"{good},E01000001");
        var csv = "id,lsoa\n" + string.Join('\n', lines) + "\n";
        var error = await Assert.ThrowsAsync<CsvTokenException>(() => Rewrite(csv, TokenColumnRule.Transcode("id", v1, v2), TokenColumnRule.EncryptText("lsoa", v1)));
        Assert.Equal(7, error.DataRow);
        Assert.Equal("id", error.Column);
        Assert.DoesNotContain(bad, error.Message, StringComparison.Ordinal);

        var tooLong = new string('x', BlockPadding.MaxValueBytes + 1);
        csv = "id,lsoa\n" + string.Join('\n', Enumerable.Range(1, 9).Select(row => $"{good},{(row == 8 ? tooLong : "E01000001")}")) + "\n";
        error = await Assert.ThrowsAsync<CsvTokenException>(() => Rewrite(csv, TokenColumnRule.Transcode("id", v1, v2), TokenColumnRule.EncryptText("lsoa", v1)));
        Assert.Equal(8, error.DataRow);
        Assert.Equal("lsoa", error.Column);
    }

    [Fact]
    public async Task Rows_with_missing_fields_and_unknown_columns_are_errors_not_silent_drops()
    {
        using var cipher = new BlockTokenCipher(BlockTokenCipherTests.Key(1), "k/v1");
        await Assert.ThrowsAsync<CsvTokenException>(() => Rewrite("a,b\n1,2\n3\n"));
        await Assert.ThrowsAsync<InvalidDataException>(() => Rewrite("a,b\n1,2\n", TokenColumnRule.EncryptText("c", cipher)));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Rewrite("a,b\n1,2\n", TokenColumnRule.EncryptText("a", cipher), TokenColumnRule.AddLayer("a", cipher)));
        await Assert.ThrowsAsync<CsvTokenException>(() =>
            Rewrite("a,b\n1,2\n1234567890123456,2\n", TokenColumnRule.EncryptText("a", cipher)));
    }

    private sealed class KeepFirstByteEven(string column) : TokenRowFilter(column)
    {
        public override void Select(ReadOnlySpan<byte> blocks, Span<bool> keep)
        {
            for (var k = 0; k < keep.Length; k++)
            {
                keep[k] = blocks[k * 16] % 2 == 0;
            }
        }
    }

    private static byte FirstByte(string token)
    {
        var block = new byte[16];
        TokenCodec.Decode(token, block);
        return block[0];
    }

    [Fact]
    public async Task A_row_filter_judges_the_input_token_and_cuts_rows_out_across_batches()
    {
        using var from = new BlockTokenCipher(BlockTokenCipherTests.Key(1), "a/v1");
        using var to = new BlockTokenCipher(BlockTokenCipherTests.Key(2), "b/v1");
        var tokens = Enumerable.Range(0, 40).Select(i => from.Encrypt($"v{i}")).ToList();
        var csv = "x,id,y\n" + string.Concat(tokens.Select((t, i) => $"{i},{t},\"q,{i}\"\n"));
        var kept = tokens.Select((t, i) => (t, i)).Where(p => FirstByte(p.t) % 2 == 0).ToList();
        using var input = new StringReader(csv);
        await using var output = new StringWriter();
        var summary = await new CsvTokenRewriter([TokenColumnRule.Transcode("id", from, to)], new CsvTokenRewriterOptions { BatchRows = 3 }, new KeepFirstByteEven("id"))
            .RewriteAsync(input, output, CancellationToken.None);
        Assert.Equal("x,id,y\n" + string.Concat(kept.Select(p => $"{p.i},{to.Encrypt($"v{p.i}")},\"q,{p.i}\"\n")), output.ToString());
        Assert.Equal(40, summary.Rows);
        Assert.Equal(40 - kept.Count, summary.RowsLeftOut);
        Assert.InRange(kept.Count, 5, 35);
    }

    [Fact]
    public async Task A_row_filter_keeps_each_kept_rows_tokens_and_fields_together_at_every_batch_size()
    {
        // The cut moves runs of rows whose tokens were written into gaps: a second token column with empty values (so
        // its values are not one a row), a text column and quoted fields of varying width must all stay with their row.
        using var from = new BlockTokenCipher(BlockTokenCipherTests.Key(1), "a/v1");
        using var to = new BlockTokenCipher(BlockTokenCipherTests.Key(2), "b/v1");
        using var geoFrom = new BlockTokenCipher(BlockTokenCipherTests.Key(3), "g/v1");
        using var geoTo = new BlockTokenCipher(BlockTokenCipherTests.Key(4), "h/v1");
        using var text = new BlockTokenCipher(BlockTokenCipherTests.Key(5), "t/v1");
        var ids = Enumerable.Range(0, 200).Select(i => from.Encrypt($"v{i}")).ToList();
        string Geo(int i) => i % 3 == 0 ? "" : geoFrom.Encrypt($"E{i % 7:D8}");
        string Pad(int i) => new('z', i % 11);
        var csv = "id,lsoa,code,note\n" + string.Concat(ids.Select((t, i) => $"{t},{Geo(i)},C{i % 5},\"{Pad(i)},{i}\"\n"));
        foreach (var batchRows in new[] { 1, 3, 7, 64, 4096 })
        {
            using var input = new StringReader(csv);
            await using var output = new StringWriter();
            var rules = new[] { TokenColumnRule.Transcode("id", from, to), TokenColumnRule.Transcode("lsoa", geoFrom, geoTo), TokenColumnRule.EncryptText("code", text) };
            var summary = await new CsvTokenRewriter(rules, new CsvTokenRewriterOptions { BatchRows = batchRows }, new KeepFirstByteEven("id"))
                .RewriteAsync(input, output, CancellationToken.None);
            var expected = ids.Select((t, i) => (t, i)).Where(p => FirstByte(p.t) % 2 == 0)
                .Select(p => $"{to.Encrypt($"v{p.i}")},{(p.i % 3 == 0 ? "" : geoTo.Encrypt($"E{p.i % 7:D8}"))},{text.Encrypt($"C{p.i % 5}")},\"{Pad(p.i)},{p.i}\"\n");
            Assert.Equal("id,lsoa,code,note\n" + string.Concat(expected), output.ToString());
            Assert.Equal(200 - expected.Count(), summary.RowsLeftOut);
        }
    }

    [Fact]
    public async Task A_row_filter_on_a_column_without_a_rule_is_refused()
    {
        using var cipher = new BlockTokenCipher(BlockTokenCipherTests.Key(1), "k/v1");
        using var input = new StringReader("a,b\n1,2\n");
        await using var output = new StringWriter();
        await Assert.ThrowsAsync<ArgumentException>(() =>
            new CsvTokenRewriter([TokenColumnRule.EncryptText("a", cipher)], null, new KeepFirstByteEven("b")).RewriteAsync(input, output, CancellationToken.None));
    }
}
