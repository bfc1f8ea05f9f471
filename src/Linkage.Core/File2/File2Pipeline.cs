using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>
/// Curates one File 2 delivery against its dataset spec: validates, filters by permission, re-encrypts the key,
/// encrypts geographies, applies every rule, removes exact duplicates in bounded memory, and writes the curated CSV
/// to the output only when the whole file passed (see docs/formats/curated-dataset.md). The caller makes the output
/// visible in one commit only when <see cref="File2Result.Succeeded"/>.
/// </summary>
public sealed class File2Pipeline(
    DatasetSpec spec,
    PermissionSnapshotSet permissions,
    BlockTokenCipher idCipher,
    BlockTokenCipher geographyCipher,
    File2PipelineOptions? options = null)
{
    private readonly File2PipelineOptions _options = options ?? new File2PipelineOptions();

    public DatasetSpec Spec => spec;

    /// <summary>
    /// Curates <paramref name="input"/> into <paramref name="output"/>, which the caller opens up front (for the intake:
    /// staged, uncommitted blocks of the version's blob). Nothing is written to it unless the file passed every check
    /// and its duplicates are known; the caller commits it only when <see cref="File2Result.Succeeded"/>.
    /// </summary>
    public async Task<File2Result> RunAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var run = new File2Run(spec, permissions, idCipher, geographyCipher, _options);
        return await run.ExecuteAsync(input, output, cancellationToken);
    }
}
