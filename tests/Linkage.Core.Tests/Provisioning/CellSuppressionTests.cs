using System.Globalization;
using System.Text;
using Linkage.Core.Tests.File2;
using Linkage.Core.Tests.Keys;
using Linkage.File2;
using Linkage.Keys;
using Linkage.Provisioning;

namespace Linkage.Core.Tests.Provisioning;

/// <summary>
/// Cell suppression at provisioning (decision 0702): a row is in a cell exactly when the risk tally put it there, read
/// back from the curated file; its marginal's values are blanked and nothing else changes; an unreadable cell fails.
/// </summary>
public sealed class CellSuppressionTests : IDisposable
{
    /// <summary>Every kind of marginal dimension: kept dates by year (sliced) and month (parsed), a generalised date by year and as its month, free text, a warn code list, a band that can start a formula, a plain code.</summary>
    private const string SpecJson = """
        {
          "specVersion": 1,
          "datasetId": "suppression_test",
          "title": "Suppression test", "description": "d", "owner": "o", "source": "s", "legalBasis": "test",
          "keyColumn": "patient_key_e",
          "permissions": { "required": ["NhsE"], "nationalOptOutApplies": true, "geography": { "flag": "SmallArea", "whenMissing": "drop-row" } },
          "columns": [
            { "name": "patient_key_e", "type": "string", "rule": "encrypt-id" },
            { "name": "row_no", "type": "integer", "rule": "keep", "required": true },
            { "name": "visit_date", "type": "date", "format": "dd/MM/yyyy", "rule": "keep" },
            { "name": "admit_date", "type": "date", "format": "yyyy-MM-dd", "rule": "keep" },
            { "name": "event_start_date", "type": "date", "format": "dd/MM/yyyy", "rule": "generalise", "generalise": { "to": "month" } },
            { "name": "setting", "type": "string", "rule": "keep", "maxLength": 40 },
            { "name": "origin", "type": "code", "rule": "keep", "onUnexpected": "warn", "labels": { "A": "a", "B, C": "b" } },
            { "name": "score", "type": "integer", "rule": "generalise", "min": -50, "max": 50, "generalise": { "to": "band", "width": 10 } },
            { "name": "sex", "type": "code", "rule": "keep", "labels": { "1": "M", "2": "F" } },
            { "name": "ward_code", "type": "string", "rule": "encrypt-geography", "maxLength": 9, "output": "ward_code_e" }
          ],
          "risk": {
            "quasiIdentifiers": ["sex"],
            "marginals": [["setting"], ["score", "event_start_date:year"], ["origin", "admit_date:year"], ["visit_date:month"], ["sex", "event_start_date"]]
          }
        }
        """;

    private static readonly DatasetSpec Spec = DatasetSpecLoader.Parse(SpecJson, "suppression_test.json");

    private readonly File2World _world = new();
    private readonly BlockTokenCipher _projectId = new(BlockTokenCipherTests.Key(31), "project-id:LLC_0001/v1");
    private readonly BlockTokenCipher _projectGeo = new(BlockTokenCipherTests.Key(32), "project-geo:LLC_0001/v1");

    public void Dispose()
    {
        _world.Dispose();
        _projectId.Dispose();
        _projectGeo.Dispose();
    }

    /// <summary>Input rows with awkward values (formulas, commas, a value that looks like a second dimension, empties).</summary>
    private static List<Dictionary<string, string>> InputRows(int count, List<string> people)
    {
        var random = new Random(7);
        string[] settings = ["Home", "Care home", "=cmd", "-2+3", "a, b", "", "@x", "Day centre"];
        string[] origins = ["A", "B, C", "", "=Z", "Q, admit_date:year=1999"];
        var rows = new List<Dictionary<string, string>>();
        for (int i = 0; i < count; i++)
        {
            string Date(int years) => random.Next(5) == 0 ? "" : new DateOnly(2015, 1, 1).AddDays(random.Next(365 * years)).ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);
            string visit = Date(3);
            string admit = random.Next(6) == 0 ? "" : new DateOnly(2016, 1, 1).AddDays(random.Next(365 * 4)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            rows.Add(new Dictionary<string, string>
            {
                ["patient_key_e"] = people[random.Next(people.Count)],
                ["row_no"] = i.ToString(CultureInfo.InvariantCulture),
                ["visit_date"] = visit,
                ["admit_date"] = admit,
                ["event_start_date"] = Date(4),
                ["setting"] = settings[random.Next(settings.Length)],
                ["origin"] = origins[random.Next(origins.Length)],
                ["score"] = random.Next(8) == 0 ? "" : random.Next(-30, 40).ToString(CultureInfo.InvariantCulture),
                ["sex"] = random.Next(9) == 0 ? "" : random.Next(1, 3).ToString(CultureInfo.InvariantCulture),
                ["ward_code"] = random.Next(4) == 0 ? "" : $"E05{random.Next(30):D6}",
            });
        }

        return rows;
    }

    private static string Csv(IEnumerable<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var sb = new StringBuilder(string.Join(',', header)).Append('\n');
        foreach (var row in rows)
        {
            sb.Append(string.Join(',', row.Select(Quote))).Append('\n');
        }

        return sb.ToString();
    }

    private static string Quote(string v) => v.IndexOfAny([',', '"']) >= 0 ? $"\"{v.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : v;

    /// <summary>RFC 4180 fields of one line (no line breaks inside fields in these tests).</summary>
    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>The cell each marginal puts an input row in, computed here from the input values (independently of the product).</summary>
    private static List<string> ExpectedCells(Dictionary<string, string> r)
    {
        static string V(string v) => v.Length == 0 ? "(empty)" : v;
        static string Year(string ddMMyyyy) => ddMMyyyy.Length == 0 ? "" : ddMMyyyy[6..];
        static string Month(string ddMMyyyy) => ddMMyyyy.Length == 0 ? "" : $"{ddMMyyyy[6..]}-{ddMMyyyy[3..5]}";
        static string Band(string s)
        {
            if (s.Length == 0)
            {
                return "";
            }

            int v = int.Parse(s, CultureInfo.InvariantCulture);
            int low = (int)Math.Floor(v / 10.0) * 10;
            return $"{low}-{low + 9}";
        }

        return
        [
            $"setting={V(r["setting"])}",
            $"score={V(Band(r["score"]))}, event_start_date:year={V(Year(r["event_start_date"]))}",
            $"origin={V(r["origin"])}, admit_date:year={V(r["admit_date"].Length == 0 ? "" : r["admit_date"][..4])}",
            $"visit_date:month={V(Month(r["visit_date"]))}",
            $"sex={V(r["sex"])}, event_start_date={V(Month(r["event_start_date"]))}",
        ];
    }

    private async Task<(List<Dictionary<string, string>> Input, string Curated, DisclosureRiskReport Risk)> CurateAsync(int rows)
    {
        var people = _world.AddPermitted(40);
        var input = InputRows(rows, people);
        string[] header = ["patient_key_e", "row_no", "visit_date", "admit_date", "event_start_date", "setting", "origin", "score", "sex", "ward_code"];
        var (result, curated) = await _world.RunAsync(Spec, Csv(header, input.Select(r => header.Select(h => r[h]).ToList())), new File2PipelineOptions { SmallCellThreshold = int.MaxValue });
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.False(result.Risk!.SmallCellsTruncated);
        return (input, curated, result.Risk);
    }

    [Fact]
    public async Task Each_curated_row_is_matched_to_exactly_the_cell_the_risk_report_counted_it_in()
    {
        var (input, curated, risk) = await CurateAsync(600);
        var byRow = input.ToDictionary(r => r["row_no"]);
        var lines = curated.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = Fields(lines[0]);
        int rowNo = header.IndexOf("row_no");
        Assert.Equal(input.Count, lines.Length - 1);

        // With every cell small, the report names every cell: they are exactly the cells computed from the input.
        var reported = risk.SmallCells.Select(c => (c.Marginal, c.Cell)).ToHashSet();
        string[] marginals = ["setting", "score × event_start_date:year", "origin × admit_date:year", "visit_date:month", "sex × event_start_date"];
        Assert.Equal(marginals, risk.Marginals);
        var expectedAll = input.SelectMany(r => ExpectedCells(r).Select((c, g) => (marginals[g], c))).ToHashSet();
        Assert.Equal(expectedAll.OrderBy(x => x.Item1 + "|" + x.c, StringComparer.Ordinal), reported.OrderBy(x => x.Marginal + "|" + x.Cell, StringComparer.Ordinal));

        // Suppressing every cell, each curated row is matched, in every marginal, to the cell its input row was counted in.
        // (This data holds no text that both neutralised and began with the apostrophe, so no row reads two ways.)
        var all = CellSuppression.Create(Spec, risk.SmallCells.Select((c, i) => new SuppressionCell($"small-cell-{i + 1}", c.Marginal, c.Cell)));
        foreach (var line in lines.Skip(1))
        {
            var fields = Fields(line);
            Assert.Equal(ExpectedCells(byRow[fields[rowNo]]), all.MatchedCells(header, fields));
        }

        Assert.Contains(("origin × admit_date:year", "origin=Q, admit_date:year=1999, admit_date:year=(empty)"), reported); // a value that reads like a dimension
        Assert.Contains(reported, c => c.Cell.StartsWith("setting==cmd", StringComparison.Ordinal)); // the unneutralised value, as the tally saw it
        Assert.Contains(reported, c => c.Cell.StartsWith("score=-10--1, ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_project_file_blanks_the_marginals_columns_in_exactly_the_matching_rows_and_changes_no_other_byte()
    {
        var (input, curated, risk) = await CurateAsync(600);
        var byRow = input.ToDictionary(r => r["row_no"]);
        string yearCell = risk.SmallCells.First(c => c.Marginal == "score × event_start_date:year" && c.Cell.StartsWith("score=-10--1, event_start_date:year=20", StringComparison.Ordinal)).Cell;
        string emptyCell = "sex=(empty), event_start_date=(empty)";
        Assert.Contains(risk.SmallCells, c => c.Cell == emptyCell);
        var cells = new[]
        {
            new SuppressionCell("small-cell-1", "score × event_start_date:year", yearCell),
            new SuppressionCell("small-cell-2", "sex × event_start_date", emptyCell),
            new SuppressionCell("small-cell-3", "setting", "setting==cmd"),
        };

        // Half the people are the project's: rows of the others are left out, and not counted. The tokens are random per run,
        // so the first person of each small cell is made the project's too: otherwise a cell of a few rows could fall wholly
        // outside the project and the test would see nothing to blank.
        var curatedLines = curated.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var curatedHeader = Fields(curatedLines[0]);
        var treIds = curatedLines.Skip(1).Select(l => l.Split(',')[0]).Distinct().Order(StringComparer.Ordinal).ToList();
        var allowedIds = treIds.Where((_, i) => i % 2 == 0).ToHashSet(StringComparer.Ordinal);
        foreach (var (cell, position) in new[] { (cells[0].Cell, 1), (cells[1].Cell, 4), (cells[2].Cell, 0) })
        {
            var first = curatedLines.Skip(1).Select(Fields).First(f => ExpectedCells(byRow[f[curatedHeader.IndexOf("row_no")]])[position] == cell);
            allowedIds.Add(first[0]);
        }

        var allowed = AllowedParticipants.FromTokens(allowedIds);

        var plain = await WriteAsync(curated, allowed, null);
        var suppression = CellSuppression.Create(Spec, cells);
        var suppressed = await WriteAsync(curated, allowed, suppression);
        var again = await WriteAsync(curated, allowed, CellSuppression.Create(Spec, cells));
        Assert.Equal(suppressed.Bytes, again.Bytes); // deterministic

        var plainLines = Encoding.UTF8.GetString(plain.Bytes).Split('\n');
        var lines = Encoding.UTF8.GetString(suppressed.Bytes).Split('\n');
        Assert.Equal(plainLines.Length, lines.Length); // every row kept
        Assert.Equal(plainLines[0], lines[0]);
        var header = Fields(lines[0]);
        var blankable = new Dictionary<int, string[]>
        {
            [0] = ["score", "event_start_date"],
            [1] = ["sex", "event_start_date"],
            [2] = ["setting"],
        };
        var perCell = new long[3];
        long affected = 0;
        for (int i = 1; i < lines.Length - 1; i++)
        {
            var before = Fields(plainLines[i]);
            var source = byRow[before[header.IndexOf("row_no")]];
            var expected = ExpectedCells(source);
            var hit = new[] { expected[1] == cells[0].Cell, expected[4] == cells[1].Cell, expected[0] == cells[2].Cell };
            var blank = Enumerable.Range(0, 3).Where(k => hit[k]).SelectMany(k => blankable[k]).ToHashSet();
            if (blank.Count == 0)
            {
                Assert.Equal(plainLines[i], lines[i]); // byte for byte
                continue;
            }

            affected++;
            for (int k = 0; k < 3; k++)
            {
                perCell[k] += hit[k] ? 1 : 0;
            }

            var after = Fields(lines[i]);
            for (int f = 0; f < header.Count; f++)
            {
                Assert.Equal(blank.Contains(header[f]) ? "" : before[f], after[f]);
            }

            // The key and token columns are untouched, and the rest of the line's bytes too.
            Assert.Equal(plainLines[i].Split(',')[0], lines[i].Split(',')[0]);
        }

        Assert.True(perCell.All(c => c > 0), string.Join(",", perCell));
        Assert.Equal(perCell, suppressed.Result.SuppressedCells.Select(c => c.Rows));
        Assert.Equal(affected, suppressed.Result.RowsSuppressed);
        Assert.Equal(plain.Result.RowsWritten, suppressed.Result.RowsWritten);
        Assert.True(suppressed.Result.RowsLeftOut > 0);
    }

    [Fact]
    public void A_neutralised_text_cell_that_could_have_been_either_value_is_suppressed_under_either_reading()
    {
        string[] header = ["setting"];
        var equals = CellSuppression.Create(Spec, [new SuppressionCell("small-cell-1", "setting", "setting==cmd")]);
        Assert.Equal(["setting==cmd"], equals.MatchedCells(header, ["'=cmd"]));
        var apostrophe = CellSuppression.Create(Spec, [new SuppressionCell("small-cell-1", "setting", "setting='=cmd")]);
        Assert.Equal(["setting='=cmd"], apostrophe.MatchedCells(header, ["'=cmd"])); // the input may have been '=cmd itself
        Assert.Empty(apostrophe.MatchedCells(header, ["=cmd"]));
        Assert.Empty(equals.MatchedCells(header, ["'x"]));
    }

    [Fact]
    public void Granularity_and_empty_values_match_as_the_tally_derived_them()
    {
        string[] header = ["visit_date", "admit_date", "event_start_date", "score", "sex"];
        var cells = CellSuppression.Create(Spec,
        [
            new SuppressionCell("a", "visit_date:month", "visit_date:month=2016-03"),
            new SuppressionCell("b", "score × event_start_date:year", "score=(empty), event_start_date:year=2017"),
            new SuppressionCell("c", "sex × event_start_date", "sex=2, event_start_date=(empty)"),
        ]);
        Assert.Equal(["visit_date:month=2016-03"], cells.MatchedCells(header, ["31/03/2016", "", "", "1-9", "1"]));
        Assert.Empty(cells.MatchedCells(header, ["30/04/2016", "", "", "1-9", "1"]));
        Assert.Equal(["score=(empty), event_start_date:year=2017"], cells.MatchedCells(header, ["", "", "2017-11", "", "1"]));
        Assert.Empty(cells.MatchedCells(header, ["", "", "2017-11", "0-9", "1"]));
        Assert.Equal(["sex=2, event_start_date=(empty)"], cells.MatchedCells(header, ["", "", "", "0-9", "2"]));
        Assert.Empty(cells.MatchedCells(header, ["", "", "2017-11", "0-9", "2"]));
    }

    [Theory]
    [InlineData("origin", "origin=A", "not one of")] // a marginal the spec does not have
    [InlineData("origin × admit_date:year", "origin=A", "cannot be read")] // a dimension missing
    [InlineData("origin × admit_date:year", "origin=A, admit_date:year=2019, sex=1", "cannot be read")] // the year holds more than a year
    [InlineData("origin × admit_date:year", "admit_date:year=2019, origin=A", "cannot be read")] // out of order
    [InlineData("origin × admit_date:year", "origin=A, admit_date:year=19", "cannot be read")]
    [InlineData("origin × admit_date:year", "origin=, admit_date:year=2019", "cannot be read")] // an empty value is written (empty)
    [InlineData("visit_date:month", "visit_date:month=2016-13", "cannot be read")]
    [InlineData("visit_date:month", "visit_date=2016-03", "cannot be read")]
    [InlineData("sex × event_start_date", "sex=3, event_start_date=2016-03", "cannot be read")] // not a code of a list that rejects others
    [InlineData("sex × event_start_date", "sex=1, event_start_date=2016", "cannot be read")] // a month column holds months
    [InlineData("Setting", "Setting=x", "not one of")]
    public void A_cell_that_is_not_a_cell_of_the_spec_fails_closed(string marginal, string cell, string problem)
    {
        var e = Assert.Throws<CellSuppressionException>(() => CellSuppression.Create(Spec, [new SuppressionCell("small-cell-7", marginal, cell)]));
        Assert.Contains("small-cell-7", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(cell, e.Message, StringComparison.Ordinal); // names the item, never the values
    }

    [Fact]
    public async Task A_curated_file_without_the_marginals_column_or_with_an_unreadable_value_fails_closed()
    {
        var cells = CellSuppression.Create(Spec, [new SuppressionCell("c", "visit_date:month", "visit_date:month=2016-03")]);
        var noColumn = "patient_key_e,row_no\n";
        await Assert.ThrowsAsync<CellSuppressionException>(() => new CsvTokenRewriter([], suppressor: cells).RewriteAsync(new StringReader(noColumn), new StringWriter(), CancellationToken.None));
        var badDate = "visit_date\n2016-03-31\n";
        var e = await Assert.ThrowsAsync<CellSuppressionException>(() => new CsvTokenRewriter([], suppressor: cells).RewriteAsync(new StringReader(badDate), new StringWriter(), CancellationToken.None));
        Assert.Contains("Data row 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_suppressor_may_not_blank_a_token_column()
    {
        using var cipher = new BlockTokenCipher(BlockTokenCipherTests.Key(33), "k/v1");
        var csv = $"setting\n{cipher.Encrypt("x")}\n";
        var cells = CellSuppression.Create(Spec, [new SuppressionCell("c", "setting", "setting=x")]);
        await Assert.ThrowsAsync<ArgumentException>(() => new CsvTokenRewriter([TokenColumnRule.Transcode("setting", cipher, cipher)], suppressor: cells).RewriteAsync(new StringReader(csv), new StringWriter(), CancellationToken.None));
    }

    private async Task<(byte[] Bytes, ProjectFileResult Result)> WriteAsync(string curated, AllowedParticipants allowed, CellSuppression? suppression)
    {
        var writer = new ProjectFileWriter(Spec, _world.IdCipher, _projectId, _world.GeoCipher, _projectGeo, new CsvTokenRewriterOptions { BatchRows = 37 });
        using var output = new MemoryStream();
        var result = await writer.WriteAsync(new MemoryStream(Encoding.UTF8.GetBytes(curated)), output, allowed, CancellationToken.None, suppression: suppression);
        return (output.ToArray(), result);
    }
}
