namespace Linkage.File2;

/// <summary>The kept rows of one input batch, laid out as staged records: output bytes with token slots, cipher inputs/outputs, dedup hashes.</summary>
internal sealed class OutputBatch
{
    public OutputBatch(int capacity, int geoColumns, int groupings)
    {
        Capacity = capacity;
        LineStart = new int[capacity];
        LineEnd = new int[capacity];
        CompareEnd = new int[capacity];
        IdSlot = new int[capacity];
        Blanked = new bool[capacity];
        IdBlocks = new byte[capacity * 16];
        GeoSlot = Enumerable.Range(0, geoColumns).Select(_ => new int[capacity]).ToArray();
        GeoBlocks = Enumerable.Range(0, geoColumns).Select(_ => new byte[capacity * 16]).ToArray();
        GeoRow = Enumerable.Range(0, geoColumns).Select(_ => new int[capacity]).ToArray();
        GeoCount = new int[geoColumns];
        RecordStart = new int[capacity];
        SourceRow = new int[capacity];
        Hash = new ulong[capacity];
    }

    public int Capacity { get; }

    public int Count { get; set; }

    public byte[] Bytes { get; private set; } = new byte[1 << 20];

    public int Used { get; set; }

    public int[] LineStart { get; }

    public int[] LineEnd { get; }

    /// <summary>End of the bytes that decide equality: the line, then the hidden-value digest if the row has one.</summary>
    public int[] CompareEnd { get; }

    public int[] IdSlot { get; }

    /// <summary>Per row: its geography was blanked (no small-area permission).</summary>
    public bool[] Blanked { get; }

    /// <summary>The batch's TTP tokens as raw 16-byte blocks, re-encrypted in place.</summary>
    public byte[] IdBlocks { get; }

    public int[][] GeoSlot { get; }

    /// <summary>Per geography column: the padded values to encrypt in place, <see cref="GeoCount"/> of them.</summary>
    public byte[][] GeoBlocks { get; }

    public int[][] GeoRow { get; }

    public int[] GeoCount { get; }

    /// <summary>Per row: where its staged record (<see cref="DedupStore.RecordHeaderBytes"/>, compare bytes, risk id slots) starts.</summary>
    public int[] RecordStart { get; }

    /// <summary>Per row: its row in the input batch (for the risk hashes computed while filtering).</summary>
    public int[] SourceRow { get; }

    /// <summary>Per row: <see cref="RowHasher.Hash64"/> of its compare bytes, the dedup store's index key.</summary>
    public ulong[] Hash { get; }

    public void EnsureBytes(int more)
    {
        if (Used + more > Bytes.Length)
        {
            var bigger = new byte[Math.Max(Bytes.Length * 2, Used + more)];
            Bytes.AsSpan(0, Used).CopyTo(bigger);
            Bytes = bigger;
        }
    }

    public void Reset()
    {
        Count = 0;
        Used = 0;
        Array.Clear(GeoCount);
    }
}
