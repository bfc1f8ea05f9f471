namespace Linkage.Synth;

/// <summary>Progress of a synth run: rows written to the file being generated.</summary>
/// <param name="TotalRows">Rows the file will hold, or null when only known at the end.</param>
/// <param name="Completed">True on the one report sent when the file is complete.</param>
public readonly record struct SynthProgress(string File, long Rows, long? TotalRows, bool Completed = false);

/// <summary>
/// Generates the whole synthetic data set under one directory:
/// <c>file1/&lt;STUDY&gt;/…</c>, <c>optout/national_opt_out.csv</c>, <c>file2/&lt;dataset&gt;/…</c>,
/// <c>reference/imd2019_lsoa11.csv</c>, the London SDE File 2s <c>file2/london_sde_asc_cld/…</c> and
/// <c>file2/london_sde_cla/…</c> (keyed by synthetic SDE patient keys) and <c>manifest.json</c>. Each file is written to a <c>.partial</c> name and
/// renamed when complete, so a watcher never picks up half a file.
/// </summary>
public sealed class SynthGenerator(SynthOptions options)
{
    public const string File1Folder = "file1";
    public const string OptOutFolder = "optout";
    public const string File2Folder = "file2";
    public const string ReferenceFolder = "reference";

    /// <summary>File 2 is delivered a month after the last quarter's File 1.</summary>
    public DateOnly File2DeliveredOn => options.FileDate(options.Quarters).AddMonths(1);

    public SynthManifest Generate(string outputDirectory, IProgress<SynthProgress>? progress, CancellationToken ct)
    {
        var cohort = new SynthCohort(options);
        IFile2Cohort file2Cohort = options.NhsOutputPath is null
            ? new StandInTokenCohort(cohort)
            : new NhsOutputCohort(options.NhsOutputPath);
        var manifest = new SynthManifest(options, file2Cohort.Description);
        Directory.CreateDirectory(outputDirectory);

        var file1 = new File1Synthesizer(cohort);
        for (int quarter = 1; quarter <= options.Quarters; quarter++)
        {
            for (int study = 0; study < cohort.StudyCount; study++)
            {
                string path = $"{File1Folder}/{options.Studies[study]}/{file1.FileName(study, quarter)}";
                var record = new SynthFileRecord(path, "file1");
                record.Count("version", quarter);
                WriteFile(outputDirectory, record, manifest, progress,
                    stream => file1.Write(study, quarter, stream, record, Reporter(progress, path, null), ct));
            }
        }

        var optOut = new OptOutListSynthesizer(cohort);
        var optOutRecord = new SynthFileRecord($"{OptOutFolder}/{OptOutListSynthesizer.FileName}", "national-opt-out");
        WriteFile(outputDirectory, optOutRecord, manifest, progress, stream => optOut.Write(stream, optOutRecord, ct));

        var imd = new ImdTableSynthesizer(cohort.Seed);
        var imdRecord = new SynthFileRecord($"{ReferenceFolder}/{ImdTableSynthesizer.FileName}", "reference-imd");
        WriteFile(outputDirectory, imdRecord, manifest, progress, stream => imdRecord.Rows = imd.Write(stream));

        File2Synthesizer[] datasets =
        [
            new LsoaMappingSynthesizer(cohort.Seed, File2DeliveredOn),
            new HesApcSynthesizer(cohort.Seed, File2DeliveredOn),
        ];
        foreach (var dataset in datasets)
        {
            string path = $"{File2Folder}/{dataset.Dataset}/{dataset.FileName}";
            var record = new SynthFileRecord(path, "file2");
            WriteFile(outputDirectory, record, manifest, progress,
                stream => dataset.Write(file2Cohort, options.File2Rows, stream, record, Reporter(progress, path, options.File2Rows), ct));
        }

        // London SDE File 2s: their own population, keyed by SDE patient keys (kind file2-sde, not UK LLC tokens).
        LondonSdeSynthesizer[] sde =
        [
            new LondonSdeAscCldSynthesizer(cohort.Seed, File2DeliveredOn),
            new LondonSdeClaSynthesizer(cohort.Seed, File2DeliveredOn, firstPatient: options.LondonSdeAscPatients),
        ];
        (int Patients, long Rows)[] sizes = [(options.LondonSdeAscPatients, options.LondonSdeRows), (options.LondonSdeClaPatients, options.LondonSdeClaRows)];
        for (int i = 0; i < sde.Length; i++)
        {
            var dataset = sde[i];
            var (patients, rows) = sizes[i];
            string path = $"{File2Folder}/{dataset.Dataset}/{dataset.FileName}";
            var record = new SynthFileRecord(path, "file2-sde");
            WriteFile(outputDirectory, record, manifest, progress,
                stream => dataset.Write(patients, rows, stream, record, Reporter(progress, path, rows), ct));
        }

        string manifestPath = Path.Combine(outputDirectory, SynthManifest.FileName);
        using (var stream = new FileStream(manifestPath + ".partial", FileMode.Create, FileAccess.Write, FileShare.None))
        {
            manifest.WriteTo(stream);
        }

        File.Move(manifestPath + ".partial", manifestPath, overwrite: true);
        return manifest;
    }

    private static Action<long>? Reporter(IProgress<SynthProgress>? progress, string path, long? total) =>
        progress is null ? null : rows => progress.Report(new SynthProgress(path, rows, total));

    private static void WriteFile(
        string outputDirectory, SynthFileRecord record, SynthManifest manifest, IProgress<SynthProgress>? progress, Action<Stream> write)
    {
        string target = Path.Combine(outputDirectory, record.Path.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string partial = target + ".partial";
        try
        {
            using var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
            write(stream);
        }
        catch
        {
            File.Delete(partial); // a cancelled or failed run leaves no half-written file behind
            throw;
        }

        File.Move(partial, target, overwrite: true);
        manifest.Files.Add(record);
        progress?.Report(new SynthProgress(record.Path, record.Rows, record.Rows, Completed: true));
    }
}
