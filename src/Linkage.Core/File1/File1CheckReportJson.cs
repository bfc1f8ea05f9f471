using System.Globalization;
using System.Text.Json;

namespace Linkage.File1;

/// <summary>
/// Writes a <see cref="File1CheckReport"/> as the JSON documented in docs/formats/file1-check.md; the CLI and
/// intake (the report stored beside a quarantined file) write the same shape.
/// </summary>
public static class File1CheckReportJson
{
    public static void Write(File1CheckReport report, Stream output, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions
        {
            Indented = indented,
            // Reports are read by people and stored as files, never embedded in HTML: keep quotes and accents readable.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        Write(report, json);
    }

    public static string ToJson(File1CheckReport report, bool indented = true)
    {
        using var buffer = new MemoryStream();
        Write(report, buffer, indented);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Write(File1CheckReport report, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteBoolean("accepted", report.Accepted);
        WriteStringOrNull(json, "fileName", report.FileName);
        WriteStringOrNull(json, "studyCode", report.StudyCode);
        if (report.Version is { } version)
        {
            json.WriteNumber("version", version);
        }
        else
        {
            json.WriteNull("version");
        }

        WriteStringOrNull(json, "fileDate", report.FileDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        json.WriteNumber("rows", report.Rows);
        json.WriteNumber("participants", report.Participants);
        json.WriteNumber("currentRows", report.CurrentRows);
        json.WriteNumber("historicalRows", report.HistoricalRows);
        json.WriteNumber("errorCount", report.ErrorCount);
        json.WriteNumber("warningCount", report.WarningCount);
        json.WriteStartArray("findings");
        foreach (var finding in report.Findings)
        {
            json.WriteStartObject();
            json.WriteString("severity", finding.Severity == File1Severity.Error ? "error" : "warning");
            json.WriteString("code", finding.Code);
            WriteStringOrNull(json, "field", finding.Field);
            json.WriteStartArray("lines");
            foreach (long line in finding.Lines)
            {
                json.WriteNumberValue(line);
            }

            json.WriteEndArray();
            json.WriteNumber("count", finding.Count);
            json.WriteString("message", finding.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
