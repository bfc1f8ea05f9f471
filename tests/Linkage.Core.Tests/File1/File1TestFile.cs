using System.Text;
using Linkage.File1;

namespace Linkage.Core.Tests.File1;

/// <summary>Builds small File 1 texts for tests: valid rows by default, with any field overridden by name.</summary>
internal sealed class File1TestFile
{
    public const string ValidNhs1 = "9434765919";
    public const string ValidNhs2 = "4010232137";

    private readonly List<string> _lines = [];

    public static string Header => string.Join(",", File1Schema.FieldNames);

    /// <summary>Clock for checks: 2026-03-15, so CREATE_DATE 01/03/2026 is in the past.</summary>
    public static TimeProvider Clock { get; } = new FixedClock(new DateTimeOffset(2026, 3, 15, 12, 0, 0, TimeSpan.Zero));

    public static File1CheckOptions Options(string? fileName = "ALSPAC_FILE1_v3_20260301.csv") =>
        new() { FileName = fileName, TimeProvider = Clock };

    public File1TestFile WithHeader()
    {
        _lines.Add(Header);
        return this;
    }

    public File1TestFile Line(string raw)
    {
        _lines.Add(raw);
        return this;
    }

    /// <summary>Adds a row for <paramref name="studyId"/>; <paramref name="overrides"/> are (field name, raw CSV text).</summary>
    public File1TestFile Row(string studyId = "P1", string status = "C", params (string Field, string Value)[] overrides)
    {
        _lines.Add(RowText(studyId, status, overrides));
        return this;
    }

    public static string RowText(string studyId = "P1", string status = "C", params (string Field, string Value)[] overrides)
    {
        var values = DefaultValues(studyId, status);
        foreach (var (field, value) in overrides)
        {
            int index = File1Schema.FieldNames.ToList().IndexOf(field);
            if (index < 0)
            {
                throw new ArgumentException($"unknown field {field}");
            }

            values[index] = value;
        }

        return string.Join(",", values);
    }

    public static string[] DefaultValues(string studyId, string status) =>
    [
        studyId, status, ValidNhs1, "Jones", "Anne", "Mary Jane", "\"1, High Street\"", "Flat 2", "", "Bristol", "Avon",
        "BS8 1TH", "01/01/2010", status == "C" ? "" : "00/00/0000", "15/06/1990", "2", "01/03/2026", "1", "1", "9", "1",
        "9", "1", "0", "9", "2", "1", "1", "0", "0", "0", "1", "1", "1",
    ];

    public string Text(string lineEnd = "\n") => string.Join(lineEnd, _lines) + (_lines.Count > 0 ? lineEnd : "");

    public byte[] Bytes(string lineEnd = "\n") => Encoding.UTF8.GetBytes(Text(lineEnd));

    public File1CheckReport Check(File1CheckOptions? options = null) => CheckBytes(Bytes(), options);

    public static File1CheckReport CheckBytes(byte[] bytes, File1CheckOptions? options = null)
    {
        using var stream = new MemoryStream(bytes);
        return File1Checker.Check(stream, options ?? Options());
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

internal static class ReportAssertions
{
    public static File1Finding Single(this File1CheckReport report, string code, string? field = null)
    {
        var matches = report.Findings.Where(f => f.Code == code && (field is null || f.Field == field)).ToList();
        Assert.True(matches.Count == 1,
            $"expected one {code}/{field}, got: {string.Join("; ", report.Findings.Select(f => $"{f.Code}/{f.Field}@{string.Join(' ', f.Lines)}"))}");
        return matches[0];
    }

    public static void HasNo(this File1CheckReport report, string code) =>
        Assert.DoesNotContain(report.Findings, f => f.Code == code);

    public static void OnlyFindings(this File1CheckReport report, params string[] codes) =>
        Assert.Equal(codes.Order(StringComparer.Ordinal), report.Findings.Select(f => f.Code).Distinct().Order(StringComparer.Ordinal));
}
