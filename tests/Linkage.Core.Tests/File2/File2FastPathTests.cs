using System.Globalization;
using Linkage.File2;
using Linkage.Permissions;

namespace Linkage.Core.Tests.File2;

/// <summary>
/// The hot-path shortcuts (codes written from precomputed bytes, checked dates and integers narrowed without a quoting
/// scan, years sliced from checked dates, the fixed-width date check, the token parse) give exactly what the general
/// code gives.
/// </summary>
public sealed class File2FastPathTests : IDisposable
{
    private readonly File2World _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void A_code_list_finds_every_code_in_short_and_long_lists_and_nothing_else()
    {
        string[] few = ["HES APC", "HES A&E", "HES OP", "GDPPR"];
        string[] many = [.. Enumerable.Range(0, 40).Select(i => $"C{i:D2}")];

        // Codes whose signatures (length, first and last three characters' low bytes) are equal must still be told
        // apart: in the vector path (up to four codes) and the scan path (five to sixteen).
        string[] alike = ["ABCxDEF", "ABCyDEF", "\u0141BCxDEF", "AB"];
        string[] alikeScanned = [.. alike, "ABCzDEF", "A", "ABC", "ABCDEF", "\u0100"];
        foreach (var codes in new[] { few, many, alike, alikeScanned })
        {
            var list = new CodeList(codes);
            for (int i = 0; i < codes.Length; i++)
            {
                Assert.Equal(i, list.IndexOf(codes[i]));
            }

            Assert.Equal(-1, list.IndexOf("ABCwDEF"));
            Assert.Equal(-1, list.IndexOf("\u0041BCxDEG"));
            Assert.Equal(-1, list.IndexOf("\0"));
            Assert.Equal(-1, list.IndexOf("hes apc"));
            Assert.Equal(-1, list.IndexOf("C4"));
            Assert.Equal(-1, list.IndexOf(""));
            Assert.Equal(-1, list.IndexOf(codes[0] + " "));
        }
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("A,B")]
    [InlineData("say \"hi\"")]
    [InlineData("Ærø – café")]
    [InlineData("line\nbreak")]
    public void A_codes_precomputed_bytes_are_what_the_field_writer_writes(string code)
    {
        var list = new CodeList(["other", code]);
        var expected = new byte[(code.Length * 6) + 2];
        int n = CsvField.Write(code, expected);
        Assert.Equal(expected[..n], list.CsvBytes(1).ToArray());
    }

    [Theory]
    [InlineData("yyyy-MM-dd")]
    [InlineData("dd/MM/yyyy")]
    [InlineData("yyyyMMdd")]
    [InlineData("MM.dd.yyyy")]
    [InlineData("yyyy-MM-dd HH:mm:ss")]
    [InlineData("dd-MM-yyyy HH:mm")]
    public void The_date_check_agrees_with_a_plain_reference_on_valid_invalid_and_random_values(string pattern)
    {
        var format = DateFormat.Create(pattern);
        var random = new Random(20261125);
        var values = new List<string>();
        for (var day = new DateTime(1899, 12, 25); day < new DateTime(2101, 1, 5); day = day.AddDays(random.Next(1, 9)))
        {
            values.Add(day.AddHours(random.Next(24)).AddMinutes(random.Next(60)).AddSeconds(random.Next(60)).ToString(pattern, CultureInfo.InvariantCulture));
        }

        values.AddRange(["2000-02-29", "1900-02-29", "2024-02-29", "2023-02-29", "2023-04-31", "2023-04-30", "0000-01-01", "0001-01-01",
            "9999-12-31", "2023-13-01", "2023-00-10", "2023-01-00", "2023-1a-01", "２０２３-01-01", "2023/01/01", "2023-01-01 ", "",
            "29/02/2000", "29/02/1900", "31/04/2023", "00/01/2023", "20230229", "20240229", "2023-01-01 24:00:00", "2023-01-01 23:60:00",
            "2023-01-01 23:59:60", "2023-01-01 23:59:59", "12.31.2023", "13.01.2023"]);
        const string alphabet = "0123456789-/.: T1290a";
        for (int i = 0; i < 20_000; i++)
        {
            var chars = new char[pattern.Length];
            for (int k = 0; k < chars.Length; k++)
            {
                chars[k] = random.Next(3) == 0 ? alphabet[random.Next(alphabet.Length)] : (char.IsAsciiLetter(pattern[k]) ? (char)('0' + random.Next(10)) : pattern[k]);
            }

            values.Add(new string(chars));
        }

        foreach (string value in values)
        {
            bool expected = Reference(pattern, value, out var date);
            bool actual = format.TryParse(value, out int year, out int month, out int day);
            Assert.True(expected == actual, $"'{value}' as {pattern}: expected {expected}");
            if (expected)
            {
                Assert.Equal((date.Year, date.Month, date.Day), (year, month, day));
                Assert.Equal(date.Year.ToString("D4", CultureInfo.InvariantCulture), value.Substring(format.YearOffset, 4));
                if (format.HasYearDashMonth)
                {
                    Assert.Equal(date.ToString("yyyy-MM", CultureInfo.InvariantCulture), value.Substring(format.YearOffset, 7));
                }
            }
        }
    }

    [Theory]
    [InlineData("yyyy-MM-dd dd")]
    [InlineData("yyyy-MM-dd yyyy")]
    [InlineData("MM/dd/yyyy HH:mm HH")]
    public void A_date_format_with_a_field_given_twice_is_refused(string pattern)
    {
        var e = Assert.Throws<FormatException>(() => DateFormat.Create(pattern));
        Assert.Contains("appears twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_parses_to_its_bytes_and_malformed_tokens_do_not()
    {
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            string token = Linkage.Keys.TokenCodec.Encode(bytes);
            Assert.True(TokenBytes.TryParse(token, out var parsed));
            Assert.Equal(TokenBytes.FromBytes(bytes), parsed);
            Assert.Equal(token, parsed.ToString());
            Assert.False(TokenBytes.TryParse(token[..21], out _));
            Assert.False(TokenBytes.TryParse(token[..21] + "=", out _));
            Assert.False(TokenBytes.TryParse(token + "A", out _));
            Assert.False(TokenBytes.TryParse("é" + token[1..], out _));
        }
    }

    [Fact]
    public async Task Codes_needing_quotes_dates_and_integers_come_out_as_the_input_values()
    {
        var spec = DatasetSpecLoader.Parse(
            """
            {
              "specVersion": 1, "datasetId": "fast_path_check", "title": "t", "description": "d", "owner": "o", "source": "s",
              "legalBasis": "test", "keyColumn": "key",
              "permissions": { "required": ["NhsE"], "nationalOptOutApplies": true },
              "columns": [
                { "name": "key", "type": "string", "rule": "encrypt-id", "required": true, "maxLength": 22, "description": "k" },
                { "name": "kind", "type": "code", "rule": "keep", "description": "c",
                  "labels": { "A,B": "comma", "say \"hi\"": "quote", "Ærø": "non-ASCII", "plain": "plain" } },
                { "name": "when", "type": "date", "format": "dd/MM/yyyy", "rule": "keep", "description": "d" },
                { "name": "count", "type": "integer", "rule": "keep", "description": "i" },
                { "name": "year", "type": "date", "format": "yyyy-MM-dd", "rule": "generalise", "generalise": { "to": "month" }, "description": "y" }
              ],
              "risk": { "marginals": [["kind", "when:year"], ["year:month"]] }
            }
            """, "fast-path.json");
        string csv = "key,kind,when,count,year\n" +
            $"{_world.Permitted},\"A,B\",29/02/2000,-12,2021-07-04\n" +
            $"{_world.Permitted},\"say \"\"hi\"\"\",01/01/0001,+7,2021-07-05\n" +
            $"{_world.Permitted2},Ærø,,0,2022-01-31\n" +
            $"{_world.Permitted2},,31/12/9999,,\n" +
            $"{_world.Permitted2},plain,31/12/2023,9223372036854775807,1999-12-31\n";

        var (result, output) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        string p1 = _world.TreId(_world.Permitted), p2 = _world.TreId(_world.Permitted2);
        Assert.Equal(
            "key,kind,when,count,year\n" +
            $"{p1},\"A,B\",29/02/2000,-12,2021-07\n" +
            $"{p1},\"say \"\"hi\"\"\",01/01/0001,+7,2021-07\n" +
            $"{p2},Ærø,,0,2022-01\n" +
            $"{p2},,31/12/9999,,\n" +
            $"{p2},plain,31/12/2023,9223372036854775807,1999-12\n",
            output);

        // The risk keys use the year and month of the checked dates, as written by the general code.
        Assert.Equal(2, result.Risk!.Marginals.Count);
        var cells = result.Risk.SmallCells.Select(c => c.Cell).ToList();
        Assert.Contains("kind=A,B, when:year=2000", cells);
        Assert.Contains("kind=(empty), when:year=9999", cells);
        Assert.Contains("year:month=2021-07", cells);
        Assert.Contains("year:month=(empty)", cells);
    }

    /// <summary>The obvious parse: literals equal, the rest ASCII digits, a real calendar date and time.</summary>
    private static bool Reference(string pattern, string value, out DateTime date)
    {
        date = default;
        if (value.Length != pattern.Length)
        {
            return false;
        }

        int Take(string field)
        {
            int at = pattern.IndexOf(field, StringComparison.Ordinal);
            return at < 0 ? 0 : int.Parse(value.AsSpan(at, field.Length), NumberStyles.None, CultureInfo.InvariantCulture);
        }

        for (int i = 0; i < pattern.Length; i++)
        {
            bool field = "yMdHms".Contains(pattern[i], StringComparison.Ordinal);
            if (field ? !char.IsAsciiDigit(value[i]) : value[i] != pattern[i])
            {
                return false;
            }
        }

        int year = Take("yyyy"), month = Take("MM"), day = Take("dd");
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || Take("HH") > 23 || Take("mm") > 59 || Take("ss") > 59)
        {
            return false;
        }

        date = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Unspecified);
        return true;
    }
}
