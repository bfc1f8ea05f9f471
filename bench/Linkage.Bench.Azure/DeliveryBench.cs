using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.DevStack;
using Linkage.File1;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Hosting;
using Linkage.Functions.Ttp;
using Linkage.LocalHost;
using Linkage.LocalHost.Functions;
using Linkage.Synth;

namespace Linkage.Bench.Azure;

/// <summary>
/// What a delivery's workflow costs on top of its intake: N small File 1s (one per study, dropped at once) through the
/// local host (blob trigger, Durable Task orchestration and activity over Azurite), each timed from its delivery record —
/// trigger to attempt start (the workflow's start-up and queueing), attempt (the intake and its bookkeeping) — beside
/// the intake's own seconds. Prints one JSON object.
/// </summary>
internal static class DeliveryBench
{
    public static async Task RunAsync(LocalStack stack, DirectoryInfo work, int deliveries)
    {
        var studies = File1CheckOptions.DefaultKnownStudyCodes.Take(deliveries).ToArray();
        new SynthGenerator(new SynthOptions { Seed = 9, Studies = studies, Participants = 500, File2Rows = 1, Quarters = 1, InvalidNhsShare = 0 })
            .Generate(Path.Combine(work.FullName, "d"), null, CancellationToken.None);

        // Development: the benchmark wraps its keys with a local key-encryption key, which the app refuses elsewhere.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"], EnvironmentName = Environments.Development });
        builder.Configuration["DataStorage:ConnectionString"] = stack.StorageConnectionString;
        builder.Configuration["Cosmos:Endpoint"] = stack.CosmosEndpoint;
        builder.Configuration["Cosmos:Key"] = stack.CosmosKey;
        builder.Configuration["Keys:LocalFolder"] = Path.Combine(work.FullName, "keys");
        builder.Configuration["Runtime:Zones"] = "ttp";
        builder.Configuration["Runtime:BlobPollInterval"] = "00:00:00.250";
        builder.Configuration["DurableTaskHubName"] = "benchhub";
        builder.Configuration["WorkflowPurgeSchedule"] = "0 30 3 * * *";
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddLinkageApp();
        builder.AddLocalFunctionsHost(typeof(LinkageAppExtensions).Assembly);
        await using var app = builder.Build();
        app.MapHttpFunctions(app.Services.GetRequiredService<IReadOnlyList<AppFunction>>());
        await app.StartAsync();

        var blobs = app.Services.GetRequiredService<BlobServiceClient>();
        var config = blobs.GetBlobContainerClient(TtpStorage.Config);
        await config.CreateIfNotExistsAsync();
        await config.GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(Path.Combine(work.FullName, "d", SynthGenerator.OptOutFolder, "national_opt_out.csv"), overwrite: true);
        var inbox = blobs.GetBlobContainerClient(TtpStorage.File1Inbox);
        await inbox.CreateIfNotExistsAsync();

        var clock = Stopwatch.StartNew();
        var refs = new List<DeliveryRef>();
        foreach (var study in studies)
        {
            string file = Directory.GetFiles(Path.Combine(work.FullName, "d", "file1", study)).Single();
            string name = $"{study}/{Path.GetFileName(file)}";
            var uploaded = await inbox.GetBlobClient(name).UploadAsync(file, overwrite: true);
            refs.Add(new DeliveryRef(TtpStorage.File1Inbox, name, uploaded.Value.ETag.ToString()));
        }

        var store = app.Services.GetRequiredService<DeliveryStore>();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        var done = new List<DeliveryRecord>();
        while (done.Count < refs.Count && clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            done.Clear();
            foreach (var r in refs)
            {
                if (await store.GetAsync(r.Id, CancellationToken.None) is { State: DeliveryState.Completed or DeliveryState.Held } record)
                {
                    done.Add(record);
                }
            }

            await Task.Delay(100);
        }

        double allSeconds = clock.Elapsed.TotalSeconds;
        var startDelay = new List<double>();
        var attempt = new List<double>();
        var intake = new List<double>();
        foreach (var d in done)
        {
            var version = await versions.GetAsync(d.BlobName.Split('/')[0], File1VersionStore.IdFor(d.BlobName.Split('/')[0], 1), CancellationToken.None);
            startDelay.Add((d.LastAttemptAt!.Value - d.ReceivedAt).TotalSeconds);
            attempt.Add((d.UpdatedAt - d.LastAttemptAt!.Value).TotalSeconds);
            intake.Add(version?.Seconds.Values.Sum() ?? double.NaN);
        }

        await app.StopAsync();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["deliveries"] = refs.Count,
            ["completed"] = done.Count(d => d.State == DeliveryState.Completed),
            ["attempts"] = done.Sum(d => d.Attempts),
            ["all_processed_seconds"] = Math.Round(allSeconds, 2),
            ["trigger_to_attempt_seconds_median"] = Median(startDelay),
            ["trigger_to_attempt_seconds_max"] = Math.Round(startDelay.DefaultIfEmpty().Max(), 3),
            ["attempt_seconds_median"] = Median(attempt),
            ["intake_seconds_median"] = Median(intake),
            ["workflow_overhead_in_attempt_seconds_median"] = Median(attempt.Zip(intake, (a, i) => a - i).ToList()),
        }));
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return Math.Round(sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2, 3);
    }
}
