using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Linkage.File1;
using Linkage.Synth;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// The leak scan itself: every spelling it claims to catch is caught when planted (built here with the BCL, not with the
/// scan's own generator), its rules against chance matches do what its documentation says, a failure never prints the
/// identifier. (<see cref="IdentifierScanScaleTests"/>: it stays fast on a large cohort.)
/// </summary>
public class IdentifierScanTests
{
    private const string Nhs = "9434765919";
    private const string StudyId = "ALS12345678";

    internal static readonly IdentifierScan Scan = new(Row(StudyId, Nhs, "SMITH", "GRACE", "ANNA MAY", "12 CHURCH ROAD", "AMBRIDGE", "BORSETSHIRE", "AB1 2CD", "01/02/1970", "NHSD123456")
        .Concat(Row("ALS87654321", "4010232137", "LEE", "MIA", "", "FLAT 3", "HOLBY", "WESSEX", "B1 1AA", "15/11/1991", "9"))
        .Concat(Row("ALS11111111", "", "O'BRIEN", "ELIZABETH", "", "7 ELM CLOSE", "", "", "CF10 1AB", "", "9")));

    public static TheoryData<string, string> Planted()
    {
        var data = new TheoryData<string, string>();
        foreach (var (label, text) in Spellings())
        {
            data.Add(label, text);
        }

        return data;
    }

    /// <summary>Planted spellings of the identifiers of <see cref="Scan"/>: a label (what a reader would call it) and text holding it.</summary>
    internal static List<(string Label, string Text)> Spellings()
    {
        byte[] nhs = Encoding.UTF8.GetBytes(Nhs);
        string sha256 = Convert.ToHexString(SHA256.HashData(nhs));
#pragma warning disable CA5350, CA5351 // planting the weak hashes a careless leak would use
        string md5 = Convert.ToHexString(MD5.HashData(nhs));
        string sha1 = Convert.ToHexString(SHA1.HashData(nhs));
        string md5Base64 = Convert.ToBase64String(MD5.HashData(nhs));
#pragma warning restore CA5350, CA5351
        string Json(string inner) => Convert.ToBase64String(Encoding.UTF8.GetBytes(inner));
        return
        [
            ("NHS number, 10 digits", $"x {Nhs} x"),
            ("NHS number, 10 digits after letters", $"nhs{Nhs}"),
            ("NHS number, spaces", "nhs: 943 476 5919"),
            ("NHS number, dashes", "nhs: 943-476-5919"),
            ("NHS number, dots", "943.476.5919"),
            ("NHS number, hex upper", Convert.ToHexString(nhs)),
            ("NHS number, hex lower", Convert.ToHexString(nhs).ToLowerInvariant()),
            ("NHS number, Base64", Convert.ToBase64String(nhs)),
            ("NHS number, Base64url", System.Buffers.Text.Base64Url.EncodeToString(nhs)),
            ("NHS number inside Base64 JSON, offset 0", Json($"{{\"n\":\"{Nhs}\"}}")),
            ("NHS number inside Base64 JSON, offset 1", Json($"{{\"nh\":\"{Nhs}\"}}")),
            ("NHS number inside Base64 JSON, offset 2", Json($"{{\"nhs\":\"{Nhs}\"}}")),
            ("NHS number, SHA-256 hex lower", sha256.ToLowerInvariant()),
            ("NHS number, SHA-256 hex upper", sha256),
            ("NHS number, SHA-256 Base64", Convert.ToBase64String(SHA256.HashData(nhs))),
            ("NHS number, SHA-256 Base64url", System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(nhs))),
            ("NHS number, MD5 hex lower", md5.ToLowerInvariant()),
            ("NHS number, MD5 hex upper", md5),
            ("NHS number, MD5 Base64", md5Base64),
            ("NHS number, SHA-1 hex", sha1.ToLowerInvariant()),
            ("surname, lower case in JSON", "{\"surname\":\"smith\"}"),
            ("surname, title case", "Dear Smith,"),
            ("surname, upper case inside a word", "XSMITHX"),
            ("surname, odd case standing alone", "name: sMiTh."),
            ("surname with apostrophe, JSON-escaped", "{\"s\":\"O\\u0027BRIEN\"}"),
            ("surname with apostrophe, without it", "obrien"),
            ("forename", "Grace"),
            ("forename and surname, no space", "gracesmith"),
            ("surname, forename", "SMITH, GRACE"),
            ("short names only as a full name", "Mia Lee"),
            ("short names, surname first", "LEE MIA"),
            ("middle names", "anna may"),
            ("forename, hex", Convert.ToHexString(Encoding.UTF8.GetBytes("GRACE"))),
            ("forename lower case, hex", Convert.ToHexString(Encoding.UTF8.GetBytes("grace")).ToLowerInvariant()),
            ("surname, Base64", Convert.ToBase64String(Encoding.UTF8.GetBytes("ELIZABETH"))),
            ("surname lower case, Base64", Convert.ToBase64String(Encoding.UTF8.GetBytes("elizabeth"))),
            ("address line, lower case", "12 church road"),
            ("address line, without spaces", "12CHURCHROAD"),
            ("address line, URL-escaped", "q=12%20CHURCH%20ROAD"),
            ("address line, town", "Ambridge"),
            ("address line, Base64", Convert.ToBase64String(Encoding.UTF8.GetBytes("12 CHURCH ROAD"))),
            ("postcode, lower case", "ab1 2cd"),
            ("postcode, without space", "postcode AB12CD"),
            ("postcode, lower case without space", "pc=ab12cd;"),
            ("postcode, hex", Convert.ToHexString(Encoding.UTF8.GetBytes("AB1 2CD"))),
            ("date of birth, dd/MM/yyyy", "dob 01/02/1970"),
            ("date of birth, ISO", "dob 1970-02-01"),
            ("date of birth, ISO timestamp", "1970-02-01T00:00:00Z"),
            ("date of birth, dd-MM-yyyy", "01-02-1970"),
            ("date of birth, dd.MM.yyyy", "dob 01.02.1970"),
            ("date of birth, yyyy/MM/dd", "1970/02/01"),
            ("date of birth, MM/dd/yyyy", "02/01/1970 00:00:00"),
            ("date of birth, d/M/yyyy", "1/2/1970"),
            ("date of birth, M/d/yyyy", "2/1/1970 12:00:00 AM"),
            ("date of birth, yyyyMMdd", "dob=19700201;"),
            ("date of birth, ddMMyyyy", "\"01021970\""),
            ("date of birth, d MMM yyyy", "1 Feb 1970"),
            ("date of birth, dd-MMM-yyyy upper", "01-FEB-1970"),
            ("date of birth, MMMM d, yyyy", "February 1, 1970"),
            ("date of birth, hex", Convert.ToHexString(Encoding.UTF8.GetBytes("01/02/1970"))),
            ("date of birth, Base64 of ISO", Convert.ToBase64String(Encoding.UTF8.GetBytes("1970-02-01"))),
            ("STUDY_ID, lower case", "als12345678"),
            ("STUDY_ID, hex", Convert.ToHexString(Encoding.UTF8.GetBytes(StudyId))),
            ("STUDY_ID, SHA-256", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(StudyId))).ToLowerInvariant()),
            ("NHS Digital study number", "nhsd123456"),
            ("second NHS number, dashes", "401-023-2137"),
            ("second date of birth, ISO", "1991-11-15"),
        ];
    }

    [Theory]
    [MemberData(nameof(Planted))]
    public void Each_planted_spelling_is_caught_and_the_failure_never_prints_it(string label, string text)
    {
        var found = Scan.Find($"prefix, {text} ,suffix", "a test string");
        Assert.True(found.Count > 0, $"not caught: {label}");
        var failure = Assert.Throws<FailException>(() => Scan.AssertFree(text, "a test string"));
        Assert.Contains("a test string", failure.Message, StringComparison.Ordinal);
        foreach (var v in Scan.Variants)
        {
            Assert.DoesNotContain(v.Text, failure.Message, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(text, failure.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("token 3fa9c0d1e2, study ALSPAC, 1970 births: 2, file ALSPAC_FILE1_v1_20251201.csv, ticks 638712345678901234")]
    [InlineData("NHS number inside a longer number: 1943476591900")]
    [InlineData("short surname alone is not searched: LEE; short forename alone: MIA")]
    [InlineData("surname by chance inside a token: aB3dEfGhsmithKlmZ9")]
    [InlineData("odd case touching letters: xsMiThx")]
    [InlineData("compact postcode inside a word: XAB12CDX")]
    [InlineData("yyyyMMdd inside hex: 3fa919700201abc")]
    [InlineData("another date: 02/02/1970, 1970-02-02")]
    public void Chance_matches_named_by_the_rules_do_not_count(string text) => Scan.AssertFree(text, "clean text");

    [Fact]
    public void Gzip_content_is_unpacked_before_it_is_searched()
    {
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes("{\"input\":\"SMITH\"}"));
        }

        Assert.Throws<FailException>(() => Scan.AssertFree(IdentifierScan.BlobText(packed.ToArray()), "a gzip blob"));
    }

    [Fact]
    public void Json_inside_json_is_unescaped_until_the_identifier_shows()
    {
        // {"outer":"{\"inner\":\"O\\u0027BRIEN\"}"}: the apostrophe is escaped twice.
        Assert.Throws<FailException>(() => Scan.AssertFree("{\"outer\":\"{\\\"inner\\\":\\\"O\\\\u0027BRIEN\\\"}\"}", "nested JSON"));
    }

    [Fact]
    public void Every_identifying_field_of_file1_is_searched()
    {
        var fields = Scan.Variants.Select(v => v.Field).ToHashSet();
        Assert.Equal(Enum.GetValues<IdentifierField>().ToHashSet(), fields);
        Assert.Contains(File1Schema.NhsDigitalStudyNumber, File1Schema.IdentifierFields);
    }

    private static IEnumerable<IdentifierVariant> Row(string studyId, string nhs, string surname, string forename, string middle, string address1, string address3, string address4, string postcode, string dob, string nhsdStudyNumber)
    {
        var f = Enumerable.Repeat("", File1Schema.FieldCount).ToArray();
        f[File1Schema.StudyId] = studyId;
        f[File1Schema.RowStatus] = "C";
        f[File1Schema.NhsNumber] = nhs;
        f[File1Schema.Surname] = surname;
        f[File1Schema.Forename] = forename;
        f[File1Schema.MiddleNames] = middle;
        f[File1Schema.Address1] = address1;
        f[File1Schema.Address1 + 2] = address3;
        f[File1Schema.Address1 + 3] = address4;
        f[File1Schema.Postcode] = postcode;
        f[File1Schema.DateOfBirth] = dob;
        f[File1Schema.NhsDigitalStudyNumber] = nhsdStudyNumber;
        f[File1Schema.NhsSStudyNumber] = "9";
        f[File1Schema.NhsNiStudyNumber] = "9";
        return IdentifierVariants.ForRow(f);
    }
}

/// <summary>The scan at scale. Runs alone (it uses both cores and ~1 GB for half a minute), not beside the timing-sensitive host tests.</summary>
[Collection(ScaleCollection.Name)]
public class IdentifierScanScaleTests(ITestOutputHelper output)
{
    /// <summary>
    /// 30,000 participants (10,000 in each of three studies): build the scan from their File 1s, then search 8 MB of text
    /// shaped like what the app writes (Base64url tokens, hex, JSON, timestamps, counts) with one planted SHA-256 in it.
    /// No chance match in the random data, the planted one found, and both steps measured.
    /// </summary>
    [Fact]
    public void A_large_cohort_is_scanned_in_linear_time_without_chance_matches()
    {
        string dir = Directory.CreateTempSubdirectory("linkage-scan-").FullName;
        try
        {
            var options = new SynthOptions { Seed = 11, Participants = 10_000, File2Rows = 0, Quarters = 1 };
            new SynthGenerator(options).Generate(dir, null, CancellationToken.None);
            var files = Directory.GetFiles(Path.Combine(dir, SynthGenerator.File1Folder), "*.csv", SearchOption.AllDirectories);
            var build = Stopwatch.StartNew();
            var scan = IdentifierScan.FromFile1s(files);
            build.Stop();

            var random = new Random(3);
            var text = new StringBuilder(8_500_000);
            byte[] buffer = new byte[32];
            while (text.Length < 8_000_000)
            {
                random.NextBytes(buffer);
                text.Append(System.Buffers.Text.Base64Url.EncodeToString(buffer.AsSpan(0, 16))).Append(',')
                    .Append(Convert.ToBase64String(buffer)).Append(',')
                    .Append(Convert.ToHexString(buffer.AsSpan(0, 20)).ToLowerInvariant()).Append(",{\"ts\":")
                    .Append(random.NextInt64(1_600_000_000, 1_800_000_000)).Append(",\"ticks\":").Append(random.NextInt64(638_000_000_000_000_000, 639_000_000_000_000_000))
                    .Append(",\"at\":\"").Append(new DateTime(2026, 1, 1).AddSeconds(random.Next(0, 30_000_000)).ToString("O")).Append("\"}\n");
            }

            string haystack = text.ToString();
            var clean = Stopwatch.StartNew();
            var chance = scan.Find(haystack, "random app-like text");
            clean.Stop();
            Assert.True(chance.Count == 0, IdentifierScan.Describe(chance));

            string someNhs = File.ReadLines(files[0]).Skip(5).Select(l => l.Split(',')[File1Schema.NhsNumber]).First(n => n.Length == 10);
            string planted = haystack.Insert(haystack.Length / 2, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(someNhs))).ToLowerInvariant());
            var found = scan.Find(planted, "planted text");
            Assert.Contains(found, f => f.What.Contains("SHA-256", StringComparison.Ordinal));

            output.WriteLine($"{scan.Count} spellings of 30,000 participants' identifiers built in {build.Elapsed.TotalSeconds:0.00} s; "
                + $"{haystack.Length / 1e6:0.0} MB searched in {clean.Elapsed.TotalSeconds:0.00} s");
            Assert.True(clean.Elapsed < TimeSpan.FromSeconds(60), $"8 MB took {clean.Elapsed}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScaleCollection
{
    public const string Name = "Scale";
}
