namespace Linkage.File2;

/// <summary>
/// The run's counts, added on the consumer thread in input order: rows in, rejected (with the detailed reject report),
/// dropped by reason, identifier-shaped values per column, and which staged rows had their geography blanked (counted
/// on the replay, so duplicates are not counted).
/// </summary>
internal sealed class RunTally(ColumnPlan plan, File2PipelineOptions options)
{
    private readonly ColumnSpec[] _columns = plan.Columns;
    private readonly File2PipelineOptions _options = options;
    private readonly long[] _dropped = new long[Enum.GetValues<DropReason>().Length];
    private readonly List<RejectedRow> _rejects = [];
    private readonly Dictionary<string, long> _rejectCounts = new(StringComparer.Ordinal);
    private long _rowsIn;
    private long _rowsRejected;
    private long _geoBlanked;

    // One bit per staged row: its geography was blanked.
    private ulong[] _blankedRows = new ulong[1024];
    private bool _rejectsTruncated;

    public long[] NhsShaped { get; } = new long[plan.Columns.Length];

    public long[] PostcodeShaped { get; } = new long[plan.Columns.Length];

    public long[] NonEmpty { get; } = new long[plan.Columns.Length];

    public long BlankLines { get; private set; }

    /// <summary>Per column: kept values outside the code list of an onUnexpected: warn column.</summary>
    public long[] Unexpected { get; } = new long[plan.Columns.Length];

    /// <summary>Earliest / latest kept month of the temporal coverage column (year * 12 + month - 1), or int.MaxValue / int.MinValue.</summary>
    public int MinMonth { get; private set; } = int.MaxValue;

    public int MaxMonth { get; private set; } = int.MinValue;

    public long RowsIn => _rowsIn;

    public long RowsRejected => _rowsRejected;

    public IReadOnlyList<RejectedRow> Rejects => _rejects;

    public bool RejectsTruncated => _rejectsTruncated;

    public IReadOnlyDictionary<string, long> RejectCounts => _rejectCounts;

    public void SetDuplicates(long duplicates) => _dropped[(int)DropReason.Duplicate] = duplicates;

    public void Add(BatchCounts counts)
    {
        BlankLines += counts.BlankLines;
        _rowsIn += counts.RowsIn;
        _rowsRejected += counts.RowsRejected;
        for (int i = 0; i < _dropped.Length; i++)
        {
            _dropped[i] += counts.Dropped[i];
        }

        for (int c = 0; c < _columns.Length; c++)
        {
            NonEmpty[c] += counts.NonEmpty[c];
            NhsShaped[c] += counts.NhsShaped[c];
            PostcodeShaped[c] += counts.PostcodeShaped[c];
            Unexpected[c] += counts.Unexpected[c];
        }

        MinMonth = Math.Min(MinMonth, counts.MinMonth);
        MaxMonth = Math.Max(MaxMonth, counts.MaxMonth);

        foreach (var reject in counts.Rejects)
        {
            string key = $"{reject.Column}: {reject.Reason}";
            _rejectCounts[key] = _rejectCounts.GetValueOrDefault(key) + 1;
            if (_rejects.Count < _options.MaxRejectDetails)
            {
                _rejects.Add(reject);
            }
            else
            {
                _rejectsTruncated = true;
            }
        }
    }

    /// <summary>Notes that staged row <paramref name="ordinal"/> had its geography blanked.</summary>
    public void MarkBlanked(long ordinal)
    {
        while ((ordinal >> 6) >= _blankedRows.Length)
        {
            Array.Resize(ref _blankedRows, _blankedRows.Length * 2);
        }

        _blankedRows[ordinal >> 6] |= 1UL << (int)(ordinal & 63);
    }

    /// <summary>On the replay: counts staged row <paramref name="ordinal"/> if it was blanked.</summary>
    public void CountIfBlanked(long ordinal)
    {
        long word = ordinal >> 6; // the bitmap only grows as far as the last blanked row
        _geoBlanked += word < _blankedRows.Length ? (long)(_blankedRows[word] >> (int)(ordinal & 63)) & 1 : 0;
    }

    public File2Counts Counts(long written) =>
        new(_rowsIn, written, _rowsRejected, Enum.GetValues<DropReason>().ToDictionary(r => r, r => _dropped[(int)r]), _geoBlanked);
}
