using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Linkage.DevStack;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Ttp;
using Linkage.Synth;

// Linkage.Bench.Azure [--participants N] [--file2-rows N]
// Starts a fresh local stack, generates a synthetic File 1 (one study) and, from its NHS Output, a LSOA11 mappings File 2,
// and runs each through the real intake service against Azurite and the Cosmos stand-in. Prints one JSON object.
// Linkage.Bench.Azure --deliveries N: N small File 1s through the local host's delivery workflows (DeliveryBench).
// Linkage.Bench.Azure --refreshes N [--projects P]: N annual refreshes at once over P projects (RefreshBench).
// Linkage.Bench.Azure --reapply [--participants N]: after the File 1 intake, a newer opt-out list re-applied to it (ReapplyBench).
int participants = Arg("--participants", 500_000);
int file2Rows = Arg("--file2-rows", 1_000_000);
var work = Directory.CreateTempSubdirectory("linkage-bench-azure-");
await using var stack = await LocalStack.StartAsync(new LocalStackOptions(), CancellationToken.None);
try
{
    if (Arg("--refreshes", 0) is > 0 and var refreshes)
    {
        await Linkage.Bench.Azure.RefreshBench.RunAsync(stack, work, refreshes, Arg("--projects", 3));
        return;
    }

    if (Arg("--deliveries", 0) is > 0 and var deliveries)
    {
        await Linkage.Bench.Azure.DeliveryBench.RunAsync(stack, work, Math.Min(deliveries, 20));
        return;
    }

    // Development: the benchmark wraps its keys with a local key-encryption key, which the app refuses elsewhere.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"], EnvironmentName = Environments.Development });
    builder.Configuration["DataStorage:ConnectionString"] = stack.StorageConnectionString;
    builder.Configuration["Cosmos:Endpoint"] = stack.CosmosEndpoint;
    builder.Configuration["Cosmos:Key"] = stack.CosmosKey;
    builder.Configuration["Keys:LocalFolder"] = Path.Combine(work.FullName, "keys");
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.AddLinkageApp(); // the app's services, without any host: the benchmark calls the intakes itself
    await using var app = builder.Build();
    var blobs = app.Services.GetRequiredService<BlobServiceClient>();

    var synth = new SynthOptions { Seed = 3, Studies = ["UKBB"], Participants = participants, File2Rows = 1, Quarters = 1, InvalidNhsShare = 0 };
    new SynthGenerator(synth).Generate(Path.Combine(work.FullName, "a"), null, CancellationToken.None);
    string file1 = Directory.GetFiles(Path.Combine(work.FullName, "a", "file1", "UKBB")).Single();
    var config = blobs.GetBlobContainerClient(TtpStorage.Config);
    await config.CreateIfNotExistsAsync();
    await config.GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(Path.Combine(work.FullName, "a", SynthGenerator.OptOutFolder, "national_opt_out.csv"), overwrite: true);
    var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
    await inbox.CreateIfNotExistsAsync();
    var uploaded = await inbox.GetBlobClient("UKBB/" + Path.GetFileName(file1)).UploadAsync(file1, overwrite: true);

    var file1Intake = app.Services.GetRequiredService<File1IntakeService>();
    var sw = Stopwatch.StartNew();
    var r1 = await file1Intake.ProcessAsync(inbox.GetBlobClient("UKBB/" + Path.GetFileName(file1)), uploaded.Value.ETag, CancellationToken.None);
    double file1Seconds = sw.Elapsed.TotalSeconds;
    long peakAfterFile1 = Process.GetCurrentProcess().PeakWorkingSet64;
    if (args.Contains("--reapply"))
    {
        await Linkage.Bench.Azure.ReapplyBench.RunAsync(app.Services, Path.Combine(work.FullName, "a", SynthGenerator.OptOutFolder, "national_opt_out.csv"), r1.Record, file1Seconds);
        return;
    }

    string nhsOutput = Path.Combine(work.FullName, "nhs_output.csv");
    string nhsPath = r1.Record.Outputs["nhsOutput"];
    await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).GetBlobClient(nhsPath[(TtpStorage.NhseOutbox.Length + 1)..]).DownloadToAsync(nhsOutput);
    new SynthGenerator(synth with { File2Rows = file2Rows, NhsOutputPath = nhsOutput }).Generate(Path.Combine(work.FullName, "b"), null, CancellationToken.None);
    string file2 = Directory.GetFiles(Path.Combine(work.FullName, "b", "file2", "nhse_lsoa11_dataset_mapping")).Single();
    var file2Inbox = blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox);
    await file2Inbox.CreateIfNotExistsAsync();
    var up2 = await file2Inbox.GetBlobClient("nhse_lsoa11_dataset_mapping/" + Path.GetFileName(file2)).UploadAsync(file2, overwrite: true);

    var file2Intake = app.Services.GetRequiredService<File2IntakeService>();

    // The File 2 intake's own high-water mark: what the process holds after a full collection, then the highest working
    // set sampled while the intake runs (the process-wide peak also covers the File 1 intake and the generators).
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    long file2StartMb = Process.GetCurrentProcess().WorkingSet64 / 1048576;
    long file2PeakMb = file2StartMb;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        using var self = Process.GetCurrentProcess();
        while (!sampling.IsCancellationRequested)
        {
            self.Refresh();
            file2PeakMb = Math.Max(file2PeakMb, self.WorkingSet64 / 1048576);
            await Task.Delay(100, CancellationToken.None);
        }
    });
    sw.Restart();
    var r2 = await file2Intake.ProcessAsync(file2Inbox.GetBlobClient("nhse_lsoa11_dataset_mapping/" + Path.GetFileName(file2)), up2.Value.ETag, CancellationToken.None);
    double file2Seconds = sw.Elapsed.TotalSeconds;
    await sampling.CancelAsync();
    await sampler;
    var stats = r2.Result!.Statistics;

    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["file1_outcome"] = r1.Outcome,
        ["file1_rows"] = r1.Record.Rows,
        ["file1_participants"] = r1.Record.Participants,
        ["file1_seconds"] = Math.Round(file1Seconds, 2),
        ["file1_rows_per_s"] = Math.Round(r1.Record.Rows / file1Seconds),
        ["file1_phase_seconds"] = r1.Record.Seconds,
        ["peak_working_set_mb_after_file1"] = peakAfterFile1 / 1048576,
        ["file2_outcome"] = r2.Outcome,
        ["file2_rows"] = r2.Result.Counts.RowsIn,
        ["file2_rows_written"] = r2.Result.Counts.RowsWritten,
        ["file2_rows_dropped"] = r2.Result.Counts.Dropped.Where(d => d.Value > 0).ToDictionary(d => d.Key.ToString(), d => d.Value),
        ["file2_rows_geography_blanked"] = r2.Result.Counts.RowsWithGeographyBlanked,
        ["file2_seconds"] = Math.Round(file2Seconds, 2),
        ["file2_rows_per_s"] = Math.Round(r2.Result.Counts.RowsIn / file2Seconds),
        ["file2_pipeline_read_s"] = Math.Round(stats.ReadSeconds, 2),
        ["file2_pipeline_dedup_s"] = Math.Round(stats.DedupSeconds, 2),
        ["file2_pipeline_write_s"] = Math.Round(stats.WriteSeconds, 2),
        ["file2_phase_seconds"] = r2.Seconds,
        ["file2_working_set_mb_at_start"] = file2StartMb,
        ["file2_peak_working_set_mb"] = file2PeakMb,
        ["peak_working_set_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576,
    }));
}
finally
{
    work.Delete(recursive: true);
}

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
