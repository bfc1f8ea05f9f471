using System.Text;
using Linkage.File2;
using Linkage.Keys;

namespace Linkage.Provisioning;

/// <summary>
/// What one project file holds: rows read from the curated version, rows written, rows left out (people outside the
/// allowed set), distinct people written, and the SHA-256 of the bytes written (a second provision of the same version
/// with the same keys and set gives the same hash).
/// </summary>
/// <param name="ParticipantsWritten">Distinct people among the rows written; null for reference data.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the project file's bytes (header included); null when the caller's destination hashes them.</param>
/// <param name="KeyVersions">Per re-keyed output column, the project key version that made its tokens.</param>
public sealed record ProjectFileResult(
    long RowsIn,
    long RowsWritten,
    long RowsLeftOut,
    long? ParticipantsWritten,
    long Bytes,
    string? Sha256,
    IReadOnlyDictionary<string, string> KeyVersions)
{
    /// <summary>With a <see cref="CellSuppression"/>: per suppressed cell, the rows written in it (TRE-internal counts: publish masked, decision 0507).</summary>
    public IReadOnlyList<SuppressedCellRows> SuppressedCells { get; init; } = [];

    /// <summary>Rows written with a value blanked by cell suppression.</summary>
    public long RowsSuppressed { get; init; }
}

/// <summary>
/// Streams one curated dataset version (the File 2 pipeline's CSV: header, then rows) into a project's file: the id
/// column re-keyed from the TRE id (processor-id) to the project id key, each geography column from tre-geography to
/// the project's geography key (empty stays empty), every other column copied byte for byte, and — for participant
/// data — only the rows whose TRE id is in the project's <see cref="AllowedParticipants"/>. Reference data (no id
/// column) keeps every row.
/// </summary>
/// <remarks>
/// Built on <see cref="CsvTokenRewriter"/> (batched AES, double-buffered flush) with a <see cref="TokenRowFilter"/>.
/// Memory is O(batch) plus the allowed set. Deterministic: the same curated bytes, keys and set give the same output
/// bytes. A malformed token or a row of the wrong width stops the run with a <see cref="CsvTokenException"/> (row and
/// column, never the value); the output then holds part of the file and must not be committed (write to a staging
/// blob, commit on success). Which output columns are tokens comes from the spec's rules and output names.
/// Not thread-safe (the ciphers are not): one writer per thread.
/// </remarks>
public sealed class ProjectFileWriter
{
    private const int IoBufferBytes = 1 << 16;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly DatasetSpec _spec;
    private readonly TokenColumnRule[] _rules;
    private readonly string? _idColumn;
    private readonly CsvTokenRewriterOptions? _options;

    /// <param name="spec">The dataset's spec: its encrypt-id and encrypt-geography columns' output names are the token columns.</param>
    /// <param name="treId">The processor-id cipher (version) that made the curated version's ids; null only for reference data.</param>
    /// <param name="projectId">The project's id cipher (<see cref="KeyPurposes.ProjectId"/>); null only for reference data.</param>
    /// <param name="treGeography">The tre-geography cipher (version) that made the curated version's geography tokens.</param>
    /// <param name="projectGeography">The project's geography cipher (<see cref="KeyPurposes.ProjectGeography"/>).</param>
    public ProjectFileWriter(
        DatasetSpec spec,
        BlockTokenCipher? treId,
        BlockTokenCipher? projectId,
        BlockTokenCipher treGeography,
        BlockTokenCipher projectGeography,
        CsvTokenRewriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(treGeography);
        ArgumentNullException.ThrowIfNull(projectGeography);
        _spec = spec;
        _options = options;
        var rules = new List<TokenColumnRule>();
        foreach (var column in spec.Columns)
        {
            if (column.Rule == ColumnRule.EncryptId)
            {
                if (treId is null || projectId is null)
                {
                    throw new ArgumentException($"Dataset '{spec.DatasetId}' has a person key: the TRE and project id ciphers are required.");
                }

                _idColumn = column.OutputName;
                rules.Add(TokenColumnRule.Transcode(column.OutputName, treId, projectId));
            }
            else if (column.Rule == ColumnRule.EncryptGeography)
            {
                rules.Add(TokenColumnRule.Transcode(column.OutputName, treGeography, projectGeography));
            }
        }

        _rules = [.. rules];
    }

    /// <summary>The project file's name: <c>&lt;dataset&gt;_v&lt;NNNN&gt;_&lt;YYYYMMDD&gt;.csv</c>, e.g. <c>nhse_lsoa11_dataset_mapping_v0004_20250807.csv</c>.</summary>
    public static string FileName(string datasetId, int version, DateOnly versionDate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(datasetId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, 9999);
        return $"{datasetId}_v{version:D4}_{versionDate:yyyyMMdd}.csv";
    }

    /// <summary>
    /// Reads the curated version from <paramref name="curated"/> and writes the project file to
    /// <paramref name="projectFile"/> (UTF-8, no BOM; both streams are left open).
    /// </summary>
    /// <param name="allowed">The project's people (TRE ids): required for participant data, null for reference data.</param>
    /// <param name="computeSha256">False when <paramref name="projectFile"/> takes the hash itself (a blob writer that hashes what it uploads): the bytes are not hashed twice.</param>
    /// <param name="suppression">Cells the reviewers require suppressed (decision 0702): their marginals' values are written empty in the rows in them; null for none.</param>
    public async Task<ProjectFileResult> WriteAsync(Stream curated, Stream projectFile, AllowedParticipants? allowed, CancellationToken cancellationToken, bool computeSha256 = true, CellSuppression? suppression = null)
    {
        ArgumentNullException.ThrowIfNull(curated);
        ArgumentNullException.ThrowIfNull(projectFile);
        if (_idColumn is not null && allowed is null)
        {
            throw new ArgumentException($"Dataset '{_spec.DatasetId}' is about people: an allowed set is required.", nameof(allowed));
        }

        if (_idColumn is null && allowed is not null)
        {
            throw new ArgumentException($"Dataset '{_spec.DatasetId}' has no person key: reference data takes no allowed set.", nameof(allowed));
        }

        var filter = _idColumn is null ? null : new AllowedSetFilter(_idColumn, allowed!);
        using var reader = new StreamReader(curated, StrictUtf8, detectEncodingFromByteOrderMarks: false, IoBufferBytes, leaveOpen: true);
        await using var hashing = new HashingWriteStream(projectFile, computeSha256);
        CsvRewriteSummary summary;
        await using (var writer = new StreamWriter(hashing, StrictUtf8, IoBufferBytes, leaveOpen: true))
        {
            summary = await new CsvTokenRewriter(_rules, _options, filter, suppression).RewriteAsync(reader, writer, cancellationToken);
        }

        return new ProjectFileResult(summary.Rows, summary.RowsWritten, summary.RowsLeftOut, filter?.DistinctKept, hashing.BytesWritten, hashing.Sha256Hex(), summary.KeyVersions)
        {
            SuppressedCells = suppression?.RowsPerCell ?? [],
            RowsSuppressed = suppression?.RowsAffected ?? 0,
        };
    }

    /// <summary>Keeps rows whose TRE id is in the set, and marks each member kept (one bit a slot) to count people.</summary>
    private sealed class AllowedSetFilter(string column, AllowedParticipants allowed) : TokenRowFilter(column)
    {
        // One bit a slot, and one more past them that rows left out mark (so the loop below has no data-dependent branch).
        private readonly ulong[] _seen = new ulong[(allowed.SlotCount + 1 + 63) / 64];
        private int[] _slots = [];

        public long DistinctKept { get; private set; }

        public override void Select(ReadOnlySpan<byte> blocks, Span<bool> keep)
        {
            var seen = _seen;
            var leftOut = allowed.SlotCount;
            if (_slots.Length < keep.Length)
            {
                _slots = new int[keep.Length];
            }

            var slots = _slots.AsSpan(0, keep.Length);
            allowed.SlotsOf(blocks, slots);
            var distinct = 0L;
            for (var k = 0; k < keep.Length; k++)
            {
                var slot = slots[k];
                var member = slot >= 0;
                keep[k] = member;
                var bit = member ? slot : leftOut;
                ref var word = ref seen[bit >> 6];
                var mask = 1UL << (bit & 63);
                distinct += (long)((~word >> (bit & 63)) & 1UL) & (member ? 1L : 0L);
                word |= mask;
            }

            DistinctKept += distinct;
        }
    }
}
