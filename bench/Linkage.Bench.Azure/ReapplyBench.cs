using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.Functions.Ttp;

namespace Linkage.Bench.Azure;

/// <summary>
/// What re-applying a newer national opt-out list costs the quarterly cycle per s251 study (decision 0801): the study's
/// File 1 was just accepted with the synthetic list; a list with every other number dropped is uploaded, and the
/// re-application (read the archived File 1 again, stage, commit and publish a revision) is timed, then once more with the
/// same list (a fingerprint match: nothing to do). Real Azurite and Cosmos stand-in, the app's own services.
/// </summary>
public static class ReapplyBench
{
    public static async Task RunAsync(IServiceProvider services, string listPath, File1VersionRecord accepted, double file1Seconds)
    {
        var blobs = services.GetRequiredService<BlobServiceClient>();
        var lines = await File.ReadAllLinesAsync(listPath);
        string newer = string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where((_, i) => i % 2 == 0))) + "\n";
        await blobs.GetBlobContainerClient(TtpStorage.Config).GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(BinaryData.FromString(newer), overwrite: true);

        var reapplier = services.GetRequiredService<OptOutReapplier>();
        var sw = Stopwatch.StartNew();
        var revised = await reapplier.ReapplyAsync(accepted.Study, "bench", CancellationToken.None);
        double revisedSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var again = await reapplier.ReapplyAsync(accepted.Study, "bench-2", CancellationToken.None);
        double againSeconds = sw.Elapsed.TotalSeconds;

        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["file1_rows"] = accepted.Rows,
            ["file1_participants"] = accepted.Participants,
            ["file1_intake_seconds"] = Math.Round(file1Seconds, 2),
            ["list_entries_before"] = lines.Length - 1,
            ["list_entries_after"] = (lines.Length - 1 + 1) / 2,
            ["reapply_outcome"] = revised.Outcome.ToString(),
            ["reapply_revision"] = revised.Revision,
            ["reapply_opt_outs_started"] = revised.OptOutsStarted,
            ["reapply_opt_outs_lifted"] = revised.OptOutsLifted,
            ["reapply_seconds"] = Math.Round(revisedSeconds, 2),
            ["reapply_rows_per_s"] = Math.Round(accepted.Rows / revisedSeconds),
            ["same_list_again_outcome"] = again.Outcome.ToString(),
            ["same_list_again_seconds"] = Math.Round(againSeconds, 3),
            ["peak_working_set_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576,
        }));
    }
}
