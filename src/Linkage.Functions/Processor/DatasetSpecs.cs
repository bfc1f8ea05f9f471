using Linkage.File2;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Processor;

/// <summary>Settings of File 2 intake (section <c>File2</c>).</summary>
public sealed class File2IntakeOptions
{
    public const string SectionName = "File2";

    /// <summary>Folder of dataset specs (*.json). Default: the <c>datasets</c> folder shipped beside the app.</summary>
    public string SpecsFolder { get; set; } = Path.Combine(AppContext.BaseDirectory, "datasets");

    /// <summary>Share of bad rows above which a whole file is rejected.</summary>
    public double MaxRejectShare { get; set; } = 0.01;

    /// <summary>
    /// Share of rows dropped as unknown participant (key in no permission snapshot) above which the file is held, not
    /// published: its people's snapshots may not have arrived yet (decision 0603).
    /// </summary>
    public double MaxUnknownParticipantShare { get; set; } = 0.05;

    /// <summary>Memory the curation of one file may use; deduplication spills to temporary files beyond it.</summary>
    public int MemoryBudgetMb { get; set; } = 512;

    /// <summary>Where spill files go (default: the system temp folder).</summary>
    public string? TempDirectory { get; set; }
}

/// <summary>
/// Every dataset spec, loaded and validated once at start-up: a bad spec stops the app with every problem listed
/// (file, JSON path, what is wrong, how to fix), rather than failing the first File 2 that needs it.
/// Adding a dataset is adding a spec file.
/// </summary>
public sealed class DatasetSpecs
{
    private readonly Dictionary<string, DatasetSpec> _byId;

    public DatasetSpecs(IOptions<File2IntakeOptions> options)
    {
        string folder = options.Value.SpecsFolder;
        if (!Directory.Exists(folder))
        {
            throw new DatasetSpecException([new SpecProblem(folder, "$", "The dataset specs folder does not exist.", "Set File2:SpecsFolder to the folder holding the dataset spec files (config/datasets in the repository).")]);
        }

        var problems = new List<SpecProblem>();
        _byId = new Dictionary<string, DatasetSpec>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                var spec = DatasetSpecLoader.LoadFile(file);
                if (!_byId.TryAdd(spec.DatasetId, spec))
                {
                    problems.Add(new SpecProblem(Path.GetFileName(file), "$.datasetId", $"Dataset id '{spec.DatasetId}' is used by another spec too.", "Give each dataset spec a unique datasetId."));
                }
            }
            catch (DatasetSpecException e)
            {
                problems.AddRange(e.Problems);
            }
        }

        if (problems.Count > 0)
        {
            throw new DatasetSpecException(problems);
        }
    }

    public IReadOnlyCollection<DatasetSpec> All => _byId.Values;

    public bool TryGet(string datasetId, out DatasetSpec spec) => _byId.TryGetValue(datasetId, out spec!);
}
