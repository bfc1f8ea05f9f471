using System.Security.Cryptography;
using System.Text;
using Linkage.File2;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.Core.Tests.File2;

/// <summary>
/// A small but real world for File 2 tests: TTP tokens made with a real TTP cipher, a permission snapshot written and
/// read back through the binary format, and the real processor id and TRE geography ciphers.
/// </summary>
internal sealed class File2World : IDisposable
{
    public const string Study = "ALSPAC";

    private readonly BlockTokenCipher _ttp = new(RandomNumberGenerator.GetBytes(32), "ttp-v1");

    public File2World()
    {
        IdCipher = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "proc-id-v3");
        GeoCipher = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "tre-geo-v2");
        var everything = PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.SmallArea;
        Permitted = Token("P1", everything);
        Permitted2 = Token("P2", everything);
        Withdrawn = Token("P3", everything & ~PermissionFlags.Active);
        NoNhsE = Token("P4", everything & ~PermissionFlags.NhsE);
        OptedOut = Token("P5", everything | PermissionFlags.NationalOptOutApplies);
        NoSmallArea = Token("P6", everything & ~PermissionFlags.SmallArea);
        Unknown = _ttp.Encrypt("NOT-IN-FILE1");
        Permissions = PermissionSnapshotSet.Merge([SnapshotRoundTrip()]);
    }

    public BlockTokenCipher IdCipher { get; }

    public BlockTokenCipher GeoCipher { get; }

    public PermissionSnapshotSet Permissions { get; private set; }

    public string Permitted { get; }

    public string Permitted2 { get; }

    public string Withdrawn { get; }

    public string NoNhsE { get; }

    public string OptedOut { get; }

    public string NoSmallArea { get; }

    public string Unknown { get; }

    private List<(string Token, PermissionFlags Flags)> Participants { get; } = [];

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Repository root (Functions.sln) not found.");
        }
    }

    public static DatasetSpec ShippedSpec(string datasetId) =>
        DatasetSpecLoader.LoadFile(Path.Combine(RepoRoot, "config", "datasets", datasetId + ".json"));

    /// <summary>
    /// The LSOA11 spec as it was before decision 0514: rows without small-area permission keep their row with the area
    /// blanked, and an origin outside the code list rejects its row. Tests of those mechanisms (and the golden digests)
    /// use it; the shipped spec now drops such rows and warns on unexpected origins.
    /// </summary>
    public static DatasetSpec LsoaSpecBlankingAndRejecting() =>
        DatasetSpecLoader.Parse(File.ReadAllText(Path.Combine(RepoRoot, "config/datasets/nhse_lsoa11_dataset_mapping.json"))
            .Replace("\"whenMissing\": \"drop-row\"", "\"whenMissing\": \"blank\"", StringComparison.Ordinal)
            .Replace("\"onUnexpected\": \"warn\",", "", StringComparison.Ordinal), "lsoa-as-before.json");

    /// <summary>The LSOA11 spec, except that it (wrongly) keeps <c>avail_from_dt</c> as free text, so a delivery can fill it with identifiers.</summary>
    public static DatasetSpec SpecKeepingFreeText() =>
        DatasetSpecLoader.Parse(File.ReadAllText(Path.Combine(RepoRoot, "config/datasets/nhse_lsoa11_dataset_mapping.json"))
            .Replace("\"name\": \"avail_from_dt\", \"type\": \"date\", \"format\": \"yyyy-MM-dd\"", "\"name\": \"avail_from_dt\", \"type\": \"string\"", StringComparison.Ordinal), "test.json");

    /// <summary>Adds more participants (all fully permitted), e.g. for volume tests; returns their TTP tokens.</summary>
    public List<string> AddPermitted(int count)
    {
        var tokens = new List<string>();
        for (int i = 0; i < count; i++)
        {
            tokens.Add(Token($"V{i}", PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.SmallArea));
        }

        Permissions = PermissionSnapshotSet.Merge([SnapshotRoundTrip()]);
        return tokens;
    }

    public string TreId(string ttpToken) => IdCipher.ReencryptToken(ttpToken);

    public async Task<(File2Result Result, string Output)> RunAsync(DatasetSpec spec, string csv, File2PipelineOptions? options = null)
    {
        var pipeline = new File2Pipeline(spec, Permissions, IdCipher, GeoCipher, options ?? new File2PipelineOptions { MaxRejectShare = 0.5 });
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        using var output = new MemoryStream();
        var result = await pipeline.RunAsync(input, output, CancellationToken.None);
        return (result, Encoding.UTF8.GetString(output.ToArray()));
    }

    public void Dispose()
    {
        _ttp.Dispose();
        IdCipher.Dispose();
        GeoCipher.Dispose();
    }

    private string Token(string studyId, PermissionFlags flags)
    {
        string token = _ttp.Encrypt(studyId);
        Participants.Add((token, flags));
        return token;
    }

    private PermissionSnapshot SnapshotRoundTrip()
    {
        var writer = new PermissionSnapshotWriter(new PermissionSnapshotHeader(Study, 3, "ttp-v1", DateTimeOffset.UtcNow));
        foreach (var (token, flags) in Participants)
        {
            writer.Add(token, flags);
        }

        using var buffer = new MemoryStream();
        writer.WriteAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
        buffer.Position = 0;
        return PermissionSnapshot.ReadAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
    }
}
