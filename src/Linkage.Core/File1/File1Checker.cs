namespace Linkage.File1;

/// <summary>
/// Checks a File 1 against every rule of the specification in one streaming pass, collecting all findings
/// (see docs/formats/file1-check.md). Memory is bounded by the per-participant state
/// (<see cref="ParticipantTracker"/>), not by the file's size or the length of its lines.
/// </summary>
public static class File1Checker
{
    public static async Task<File1CheckReport> CheckAsync(
        Stream stream, File1CheckOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        var run = new File1CheckRun(options);
        using var reader = new File1Reader(stream);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            run.CheckRow(reader.Current);
        }

        return run.Finish(reader);
    }

    public static File1CheckReport Check(Stream stream, File1CheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        var run = new File1CheckRun(options);
        using var reader = new File1Reader(stream);
        while (reader.Read())
        {
            run.CheckRow(reader.Current);
        }

        return run.Finish(reader);
    }
}
