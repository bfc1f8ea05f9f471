using System.CommandLine;
using Linkage.File1;

namespace Linkage.Cli.File1;

/// <summary>`linkage file1 check`: the intake's File 1 validation, run offline by a provider before upload.</summary>
internal static class File1Command
{
    public static Command Create()
    {
        var file1 = new Command("file1", "File 1 tools for providers.");
        file1.Subcommands.Add(File1CheckCommand.Create());
        return file1;
    }
}

/// <summary>Exit codes of `linkage file1 check`.</summary>
internal static class File1CheckExitCodes
{
    public const int Accepted = 0;
    public const int Rejected = 1;
    public const int Unreadable = 2;
}

internal static class File1CheckCommand
{
    public static Command Create()
    {
        var path = new Argument<FileInfo>("path") { Description = "The File 1 to check (CSV)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (schema: docs/formats/file1-check.md)." };
        var studyCode = new Option<string?>("--study-code")
        {
            Description = "Your study code: the file name must carry it (as intake checks for the uploading provider).",
        };
        var firstFile = new Option<bool>("--first-file")
        {
            Description = "This is the study's first File 1: every participant must have UKLLC_STATUS = 1.",
        };
        var knownStudies = new Option<string?>("--known-studies")
        {
            Description = "Comma-separated known study codes (default: the list of the File 1 specification).",
        };

        var command = new Command("check", "Check a File 1 against the specification. Exit code 0 accepted, 1 rejected, 2 unreadable.");
        command.Arguments.Add(path);
        command.Options.Add(json);
        command.Options.Add(studyCode);
        command.Options.Add(firstFile);
        command.Options.Add(knownStudies);
        command.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            var output = pr.InvocationConfiguration.Output;
            var error = pr.InvocationConfiguration.Error;
            var file = pr.GetValue(path)!;
            var options = new File1CheckOptions
            {
                FileName = file.Name,
                ExpectedStudyCode = pr.GetValue(studyCode),
                IsFirstFile = pr.GetValue(firstFile),
                KnownStudyCodes = pr.GetValue(knownStudies) is { } list
                    ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : File1CheckOptions.DefaultKnownStudyCodes,
            };

            File1CheckReport report;
            try
            {
                await using var stream = new FileStream(
                    file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
                report = await File1Checker.CheckAsync(stream, options, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The path is the user's own input; the exception text may name it, but never file contents.
                await error.WriteLineAsync($"Cannot read {file.FullName}: {e.Message}");
                return File1CheckExitCodes.Unreadable;
            }

            if (pr.GetValue(json))
            {
                await output.WriteLineAsync(File1CheckReportJson.ToJson(report));
            }
            else
            {
                await File1ReportText.WriteAsync(report, output);
            }

            return report.Accepted ? File1CheckExitCodes.Accepted : File1CheckExitCodes.Rejected;
        });
        return command;
    }
}
