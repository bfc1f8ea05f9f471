using System.Globalization;
using Linkage.File1;

namespace Linkage.Cli.File1;

/// <summary>The human-readable form of a File 1 check report: a summary, then one paragraph per finding.</summary>
internal static class File1ReportText
{
    public static async Task WriteAsync(File1CheckReport report, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        string verdict = report.Accepted ? "ACCEPTED" : "REJECTED";
        await output.WriteLineAsync($"{report.FileName ?? "File 1"}: {verdict}");
        if (report.StudyCode is not null)
        {
            await output.WriteLineAsync(string.Create(c,
                $"  study {report.StudyCode}, version {report.Version}, dated {report.FileDate:yyyy-MM-dd}"));
        }

        await output.WriteLineAsync(string.Create(c,
            $"  {report.Rows} rows ({report.CurrentRows} current, {report.HistoricalRows} historical), {report.Participants} participants"));
        await output.WriteLineAsync(string.Create(c, $"  {report.ErrorCount} errors, {report.WarningCount} warnings"));
        foreach (var finding in report.Findings)
        {
            await output.WriteLineAsync();
            string severity = finding.Severity == File1Severity.Error ? "ERROR" : "warning";
            string field = finding.Field is null ? "" : $" {finding.Field}";
            await output.WriteLineAsync($"{severity} {finding.Code}{field}");
            if (finding.Lines.Count > 0)
            {
                string lines = string.Join(", ", finding.Lines.Select(l => l.ToString(c)));
                string more = finding.Count > finding.Lines.Count ? string.Create(c, $" and {finding.Count - finding.Lines.Count} more") : "";
                await output.WriteLineAsync(string.Create(c, $"  line{(finding.Count == 1 ? "" : "s")} {lines}{more} ({finding.Count} in all)"));
            }

            await output.WriteLineAsync($"  {finding.Message}");
        }
    }
}
