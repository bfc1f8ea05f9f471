namespace Linkage.File2;

/// <summary>Tuning and thresholds for <see cref="File2Pipeline"/>.</summary>
public sealed record File2PipelineOptions
{
    /// <summary>The file is rejected whole when rejected rows exceed this share of its rows.</summary>
    public double MaxRejectShare { get; init; } = 0.01;

    /// <summary>Peak memory the run may use; dedup and risk tracking size themselves from it and spill beyond it.</summary>
    public int MemoryBudgetMb { get; init; } = 512;

    /// <summary>Where staging and spill files go (deleted on close); defaults to the system temp directory.</summary>
    public string? TempDirectory { get; init; }

    /// <summary>Rows read and checked for identifier-shaped columns before anything is staged.</summary>
    public int IdentifierSampleRows { get; init; } = 1000;

    /// <summary>A kept column is identifier-like when at least this share of its non-empty values look like NHS numbers or postcodes.</summary>
    public double IdentifierShare { get; init; } = 0.05;

    /// <summary>Rows per batch: the unit a worker filters, composes and encrypts (one cipher call per column).</summary>
    public int BatchRows { get; init; } = 4096;

    /// <summary>Threads that filter and compose batches while one more parses; batches are staged in input order
    /// whatever the count, so the output does not depend on it (decision 0512).</summary>
    public int Workers { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>Row-level rejects kept in detail (all are counted).</summary>
    public int MaxRejectDetails { get; init; } = 10_000;

    /// <summary>Disclosure threshold: cells and combinations under it are flagged.</summary>
    public int SmallCellThreshold { get; init; } = 10;

    /// <summary>
    /// Reference datasets: every combination of the output's non-key values must be shared by at least this many
    /// distinct keys (areas), or the delivery is rejected (<see cref="File2Outcome.SinglesOutArea"/>).
    /// </summary>
    public int PlaceBasedThreshold { get; init; } = Linkage.Provisioning.PlaceBasedDisclosureCheck.DefaultThreshold;

    /// <summary>Overrides the in-memory dedup index size derived from the budget (tests use it to force spilling).</summary>
    public long? IndexEntriesInMemory { get; init; }

    /// <summary>Overrides the bytes of staged rows kept in memory before they move to a temporary file (tests use it).</summary>
    public long? StageBytesInMemory { get; init; }

    // A quarter of the budget for the dedup index (20 bytes a row), a quarter for staged rows; the rest is headroom
    // for the runtime, I/O buffers, risk tallies, and the one partition being deduplicated.
    internal long IndexEntryCap => IndexEntriesInMemory ?? (MemoryBudgetMb * 1024L * 1024L / 4) / 20;

    internal long StageMemoryBytes => StageBytesInMemory ?? MemoryBudgetMb * 1024L * 1024L / 4;

    /// <summary>Distinct keys tracked per risk grouping; beyond it the report says tracking was incomplete.</summary>
    internal int RiskKeysPerGrouping(int groupings) =>
        (int)Math.Clamp(MemoryBudgetMb * 1024L * 1024L / 10 / Math.Max(1, groupings) / 160, 10_000, 2_000_000);
}
