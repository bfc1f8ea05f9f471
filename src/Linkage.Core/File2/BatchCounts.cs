namespace Linkage.File2;

/// <summary>
/// What a worker counts while filtering one batch: the consumer adds these to the run's totals in input order, so
/// rejects keep their line order and every count has one writer at a time.
/// </summary>
internal sealed class BatchCounts(int columns)
{
    public long BlankLines { get; set; }

    public long RowsIn { get; set; }

    public long RowsRejected { get; set; }

    public long[] Dropped { get; } = new long[Enum.GetValues<DropReason>().Length];

    public long[] NonEmpty { get; } = new long[columns];

    public long[] NhsShaped { get; } = new long[columns];

    public long[] PostcodeShaped { get; } = new long[columns];

    /// <summary>Per code column with onUnexpected: warn, kept values not in its code list.</summary>
    public long[] Unexpected { get; } = new long[columns];

    /// <summary>Over kept rows: the earliest and latest month (year * 12 + month - 1) of the temporal coverage column; int.MaxValue / int.MinValue when none.</summary>
    public int MinMonth { get; set; } = int.MaxValue;

    public int MaxMonth { get; set; } = int.MinValue;

    /// <summary>Every reason found in the batch (a batch is bounded, so this is too); the consumer caps the details kept.</summary>
    public List<RejectedRow> Rejects { get; } = [];

    public void Clear()
    {
        BlankLines = 0;
        RowsIn = 0;
        RowsRejected = 0;
        Array.Clear(Dropped);
        Array.Clear(NonEmpty);
        Array.Clear(NhsShaped);
        Array.Clear(PostcodeShaped);
        Array.Clear(Unexpected);
        MinMonth = int.MaxValue;
        MaxMonth = int.MinValue;
        Rejects.Clear();
    }
}
