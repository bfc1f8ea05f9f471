using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Linkage.File2;

/// <summary>
/// Exact deduplication in bounded memory (decision 0502). Rows are staged in arrival order to one temporary file;
/// a 20-byte index entry (hash, offset, ordinal) per row goes to one of 256 hash partitions, which spill to their own
/// temporary files once the in-memory index reaches its cap. Each partition is then deduplicated on its own with an
/// open-addressing table (equal hashes are confirmed by comparing the staged bytes), marking later copies in a
/// one-bit-per-row bitmap; a final sequential pass replays the staged rows, skipping marked ones, so the output keeps
/// the input order whatever the budget. A partition larger than the cap is split again on further hash bits.
/// </summary>
internal sealed class DedupStore : IDisposable
{
    private const int PartitionBits = 8;
    private const int SplitBits = 4;
    private const int BlockEntries = DedupMemoryPool.BlockEntries;
    private const int StageBufferBytes = DedupMemoryPool.ChunkBytes;

    private readonly string _directory;
    private readonly long _memoryEntryCap;
    private readonly long _stageMemoryCap;
    private readonly List<byte[]> _stageChunks = [];
    private SafeFileHandle? _stage;
    private byte[] _stageBuffer = DedupMemoryPool.RentChunk();

    // Index blocks a partition gave back (after a spill, or once deduplicated): reused by this store first, so a run
    // that spills again and again refills the same blocks instead of leaving them to the GC. Concurrent: partitions
    // are deduplicated on several threads.
    private readonly System.Collections.Concurrent.ConcurrentStack<IndexEntry[]> _freeBlocks = new();
    private readonly Partition[] _partitions;
    private int _stageUsed;
    private long _stageFileLength;
    private long _entriesInMemory;
    private ulong[] _duplicates = [];
    private long _duplicateRows;

    public DedupStore(string directory, long memoryEntryCap, long stageMemoryBytes)
    {
        _directory = directory;
        _memoryEntryCap = Math.Max(memoryEntryCap, 1024);
        _stageMemoryCap = stageMemoryBytes;
        _partitions = new Partition[1 << PartitionBits];
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new Partition(this);
        }
    }

    public long Rows { get; private set; }

    public long DuplicateRows => _duplicateRows;

    /// <summary>True once the index outgrew memory and partitions went to temporary files.</summary>
    public bool Spilled { get; private set; }

    public int SpillFiles { get; private set; }

    /// <summary>
    /// Stages <paramref name="starts"/>.Length records already laid out in <paramref name="records"/> (each as
    /// <see cref="WriteRecordHeader"/>, its compare bytes, then its risk ids), in order, with one copy for them all.
    /// Record i starts at <paramref name="starts"/>[i] and its compare bytes hash to <paramref name="hashes"/>[i].
    /// </summary>
    public void AppendRecords(ReadOnlySpan<byte> records, ReadOnlySpan<int> starts, ReadOnlySpan<ulong> hashes)
    {
        long offset = Stage(records);
        for (int i = 0; i < starts.Length; i++)
        {
            Index(hashes[i], offset + starts[i]);
        }
    }

    /// <summary>Bytes before a record's compare bytes: their length, then the output's length within them.</summary>
    public const int RecordHeaderBytes = 8;

    public static void WriteRecordHeader(Span<byte> destination, int compareLength, int outputLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, compareLength);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], outputLength);
    }

    /// <summary>Appends bytes to the stage, piecewise across chunks (chunk k always covers [k MiB, k+1 MiB)); returns their offset.</summary>
    private long Stage(ReadOnlySpan<byte> bytes)
    {
        long offset = _stageFileLength + _stageUsed;
        while (!bytes.IsEmpty)
        {
            int n = Math.Min(bytes.Length, _stageBuffer.Length - _stageUsed);
            bytes[..n].CopyTo(_stageBuffer.AsSpan(_stageUsed));
            _stageUsed += n;
            bytes = bytes[n..];
            if (_stageUsed == _stageBuffer.Length)
            {
                FlushStage();
            }
        }

        return offset;
    }

    private void Index(ulong hash, long offset)
    {
        _partitions[hash >> (64 - PartitionBits)].Add(new IndexEntry(hash, offset, checked((uint)Rows)));
        Rows++;
        if (++_entriesInMemory > _memoryEntryCap)
        {
            SpillAll();
        }
    }

    /// <summary>True once staged rows outgrew their memory share and moved to a temporary file.</summary>
    public bool StageSpilled => _stage is not null;

    /// <summary>Finds every later copy of an earlier row; returns how many rows are duplicates.</summary>
    public long FindDuplicates(CancellationToken cancellationToken)
    {
        FlushStage();
        _duplicates = new ulong[(Rows + 63) / 64];

        // Partitions are independent. When the whole index is in memory and no partition needs splitting (its own
        // spill files), they are shared out over the cores, each thread with its own work arrays; otherwise (a file
        // past the budget) one thread, so the work arrays are allocated once.
        int threads = Spilled || _partitions.Any(p => p.Count > _memoryEntryCap / 2) ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 8);
        int next = -1;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, _ =>
        {
            // Work arrays grown as needed and kept across partitions: allocating them per partition left ~3 MB of
            // large-object garbage per partition (≈ 770 MB over a 25M-row run). Released when the thread is done.
            var scratch = new DedupScratch();
            for (int i = Interlocked.Increment(ref next); i < _partitions.Length; i = Interlocked.Increment(ref next))
            {
                cancellationToken.ThrowIfCancellationRequested();
                Deduplicate(_partitions[i], PartitionBits, scratch, cancellationToken);
                _partitions[i].Dispose();
            }
        });

        // Nothing is indexed any more: the blocks go back to the pool (up to its cap) or to the GC before the replay.
        ReleaseFreeBlocks();
        return DuplicateRows;
    }

    /// <summary>
    /// Writes <paramref name="header"/> then every staged row that is not a duplicate, in input order, each followed
    /// by a newline; hands each written row's ordinal (its place among the staged rows) and risk ids to
    /// <paramref name="onWritten"/>. Returns the rows written.
    /// </summary>
    public async Task<long> ReplayAsync(Stream output, ReadOnlyMemory<byte> header, int riskIdCount, Action<long, ReadOnlySpan<int>> onWritten, CancellationToken cancellationToken)
    {
        byte[] input = new byte[StageBufferBytes];
        byte[] outBuffer = new byte[StageBufferBytes];
        header.CopyTo(outBuffer);

        // Two output buffers: one is written while the other fills, so the write overlaps reading the staged rows
        // (the single-threaded replay is otherwise idle while the output stream works). One write at a time, in order.
        byte[] spare = new byte[StageBufferBytes];
        Task pending = Task.CompletedTask;
        int outUsed = header.Length;
        long position = 0;
        int start = 0;
        int end = 0;
        long ordinal = 0;
        long written = 0;
        try
        {
            while (ordinal < Rows)
            {
                // Refill when the next record is not wholly buffered (growing the buffer for a huge record).
                if (end - start < 8 || end - start < RecordLength(input.AsSpan(start), riskIdCount))
                {
                    Buffer.BlockCopy(input, start, input, 0, end - start);
                    end -= start;
                    start = 0;
                    if (end >= 8 && RecordLength(input, riskIdCount) > input.Length)
                    {
                        Array.Resize(ref input, RecordLength(input, riskIdCount));
                    }

                    int read = ReadAt(position, input.AsSpan(end));
                    if (read == 0)
                    {
                        throw new InvalidOperationException("The staging file ended before all staged rows were replayed.");
                    }

                    position += read;
                    end += read;
                    continue;
                }

                // Copy as many whole records as are buffered, then write once.
                while (ordinal < Rows && end - start >= 8)
                {
                    int length = RecordLength(input.AsSpan(start), riskIdCount);
                    if (end - start < length)
                    {
                        break;
                    }

                    int compareLength = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(start));
                    int outputLength = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(start + 4));
                    if ((_duplicates[ordinal >> 6] & (1UL << (int)(ordinal & 63))) == 0)
                    {
                        if (outUsed + outputLength + 1 > outBuffer.Length)
                        {
                            await pending;
                            pending = output.WriteAsync(outBuffer.AsMemory(0, outUsed), cancellationToken).AsTask();
                            (outBuffer, spare) = (spare, outBuffer);
                            outUsed = 0;
                            if (outputLength + 1 > outBuffer.Length)
                            {
                                outBuffer = new byte[outputLength + 1];
                            }
                        }

                        input.AsSpan(start + 8, outputLength).CopyTo(outBuffer.AsSpan(outUsed));
                        outUsed += outputLength;
                        outBuffer[outUsed++] = (byte)'\n';
                        onWritten(ordinal, MemoryMarshal.Cast<byte, int>(input.AsSpan(start + 8 + compareLength, riskIdCount * 4)));
                        written++;
                    }

                    start += length;
                    ordinal++;
                }
            }

            await pending;
            await output.WriteAsync(outBuffer.AsMemory(0, outUsed), cancellationToken);
        }
        finally
        {
            // On failure, never leave a write running against the caller's stream; the first failure is the one thrown.
            await pending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return written;
    }

    public void Dispose()
    {
        foreach (var p in _partitions)
        {
            p.Dispose();
        }

        ReleaseFreeBlocks();

        _stage?.Dispose();
        foreach (var chunk in _stageChunks)
        {
            DedupMemoryPool.ReturnChunk(chunk);
        }

        _stageChunks.Clear();
        DedupMemoryPool.ReturnChunk(_stageBuffer);
        _stageBuffer = [];
    }

    private static int RecordLength(ReadOnlySpan<byte> record, int riskIdCount) =>
        8 + BinaryPrimitives.ReadInt32LittleEndian(record) + (riskIdCount * 4);

    private static SafeFileHandle OpenTemp(string directory, string kind) =>
        File.OpenHandle(
            Path.Combine(directory, $"linkage-file2-{kind}-{Guid.NewGuid():N}.tmp"),
            FileMode.CreateNew,
            FileAccess.ReadWrite,
            FileShare.None,
            FileOptions.DeleteOnClose);

    private void FlushStage()
    {
        if (_stageUsed == 0)
        {
            return;
        }

        // Full chunks stay in memory up to the cap; past it, every chunk moves to a temporary file.
        if (_stage is null && (long)(_stageChunks.Count + 1) * StageBufferBytes <= _stageMemoryCap)
        {
            _stageChunks.Add(_stageBuffer);
            _stageFileLength += _stageUsed;
            _stageBuffer = DedupMemoryPool.RentChunk();
            _stageUsed = 0;
            return;
        }

        SpillStage();
        RandomAccess.Write(_stage!, _stageBuffer.AsSpan(0, _stageUsed), _stageFileLength);
        _stageFileLength += _stageUsed;
        _stageUsed = 0;
    }

    private void SpillStage()
    {
        if (_stage is not null)
        {
            return;
        }

        _stage = OpenTemp(_directory, "stage");
        for (int k = 0; k < _stageChunks.Count; k++)
        {
            RandomAccess.Write(_stage, _stageChunks[k], (long)k * StageBufferBytes);
        }

        // Not back to the pool: this run goes on past its staging share, and a pool holding that share idle beside the
        // spilled run's own buffers would take it over the budget. The GC has them; the next run allocates afresh.

        _stageChunks.Clear();
        SpillFiles++;
    }

    /// <summary>Reads staged bytes at a logical offset from the memory chunks or the file (after <see cref="FlushStage"/>).</summary>
    private int ReadAt(long offset, Span<byte> destination)
    {
        if (_stage is not null)
        {
            return RandomAccess.Read(_stage, destination, offset);
        }

        int total = 0;
        while (!destination.IsEmpty && offset < _stageFileLength)
        {
            int k = (int)(offset / StageBufferBytes);
            int at = (int)(offset % StageBufferBytes);
            int n = (int)Math.Min(Math.Min(destination.Length, StageBufferBytes - at), _stageFileLength - offset);
            _stageChunks[k].AsSpan(at, n).CopyTo(destination);
            destination = destination[n..];
            offset += n;
            total += n;
        }

        return total;
    }

    private void ReleaseFreeBlocks()
    {
        while (_freeBlocks.TryPop(out var block))
        {
            DedupMemoryPool.ReturnBlock(block);
        }
    }

    private void SpillAll()
    {
        foreach (var p in _partitions)
        {
            p.Spill();
        }

        _entriesInMemory = 0;
        Spilled = true;
    }

    private void Deduplicate(Partition partition, int usedBits, DedupScratch scratch, CancellationToken cancellationToken)
    {
        if (partition.Count == 0)
        {
            return;
        }

        // A partition bigger than half the cap is split further rather than loaded (recursion is bounded by the 64 hash bits).
        if (partition.Count > _memoryEntryCap / 2 && usedBits + SplitBits <= 56)
        {
            var parts = new Partition[1 << SplitBits];
            for (int i = 0; i < parts.Length; i++)
            {
                parts[i] = new Partition(this);
            }

            int shift = 64 - usedBits - SplitBits;
            partition.ForEachChunk(chunk =>
            {
                foreach (var e in chunk)
                {
                    parts[(int)((e.Hash >> shift) & ((1UL << SplitBits) - 1))].Add(e);
                }

                foreach (var p in parts)
                {
                    p.Spill();
                }
            });
            partition.Dispose();
            foreach (var p in parts)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Deduplicate(p, usedBits + SplitBits, scratch, cancellationToken);
                p.Dispose();
            }

            return;
        }

        if (scratch.Entries.Length < partition.Count)
        {
            scratch.Entries = new IndexEntry[partition.Count];
        }

        var entries = scratch.Entries;
        int n = 0;
        partition.ForEachChunk(chunk =>
        {
            chunk.CopyTo(entries.AsSpan(n));
            n += chunk.Length;
        });
        partition.Dispose();

        // Entries arrive in ordinal order, so the first copy met is the one kept.
        int size = (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)n * 2));
        int mask = size - 1;
        if (scratch.Table.Length < size)
        {
            scratch.Table = new int[size];
        }

        int[] table = scratch.Table;
        Array.Fill(table, -1, 0, size);
        ref byte[] a = ref scratch.CompareA;
        ref byte[] b = ref scratch.CompareB;
        for (int i = 0; i < n; i++)
        {
            ref readonly var e = ref entries[i];
            int slot = (int)e.Hash & mask;
            bool duplicate = false;
            while (table[slot] >= 0)
            {
                ref readonly var other = ref entries[table[slot]];
                if (other.Hash == e.Hash && SameBytes(other.Offset, e.Offset, ref a, ref b))
                {
                    duplicate = true;
                    break;
                }

                slot = (slot + 1) & mask;
            }

            if (duplicate)
            {
                // Another thread may mark another row of the same word.
                Interlocked.Or(ref _duplicates[e.Ordinal >> 6], 1UL << (int)(e.Ordinal & 63));
                Interlocked.Increment(ref _duplicateRows);
            }
            else
            {
                table[slot] = i;
            }
        }
    }

    private bool SameBytes(long offsetA, long offsetB, ref byte[] a, ref byte[] b)
    {
        // Both lengths must agree: the compared bytes, and where the output ends within them.
        Span<byte> headA = stackalloc byte[8];
        Span<byte> headB = stackalloc byte[8];
        ReadExactly(offsetA, headA);
        ReadExactly(offsetB, headB);
        if (!headA.SequenceEqual(headB))
        {
            return false;
        }

        int lengthA = BinaryPrimitives.ReadInt32LittleEndian(headA);

        if (a.Length < lengthA)
        {
            a = new byte[lengthA];
            b = new byte[lengthA];
        }

        ReadExactly(offsetA + 8, a.AsSpan(0, lengthA));
        ReadExactly(offsetB + 8, b.AsSpan(0, lengthA));
        return a.AsSpan(0, lengthA).SequenceEqual(b.AsSpan(0, lengthA));
    }

    private void ReadExactly(long offset, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            int n = ReadAt(offset, destination);
            if (n == 0)
            {
                throw new InvalidOperationException("The staging file is shorter than its index says.");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal readonly record struct IndexEntry(ulong Hash, long Offset, uint Ordinal);

    /// <summary>One dedup thread's work arrays.</summary>
    private sealed class DedupScratch
    {
        public IndexEntry[] Entries = [];
        public int[] Table = [];
        public byte[] CompareA = new byte[256];
        public byte[] CompareB = new byte[256];
    }

    /// <summary>Index entries of one hash partition: blocks in memory, plus a temporary file once spilled.</summary>
    private sealed class Partition(DedupStore store) : IDisposable
    {
        private readonly List<IndexEntry[]> _blocks = [];
        private int _lastCount = BlockEntries;
        private SafeFileHandle? _file;
        private long _fileEntries;

        public long Count => _fileEntries + InMemory;

        private long InMemory => _blocks.Count == 0 ? 0 : ((long)(_blocks.Count - 1) * BlockEntries) + _lastCount;

        public void Add(in IndexEntry entry)
        {
            if (_lastCount == BlockEntries)
            {
                _blocks.Add(store._freeBlocks.TryPop(out var free) ? free : DedupMemoryPool.RentBlock());
                _lastCount = 0;
            }

            _blocks[^1][_lastCount++] = entry;
        }

        public void Spill()
        {
            if (_blocks.Count == 0)
            {
                return;
            }

            if (_file is null)
            {
                _file = OpenTemp(store._directory, "index");
                store.SpillFiles++;
            }

            for (int i = 0; i < _blocks.Count; i++)
            {
                int count = i == _blocks.Count - 1 ? _lastCount : BlockEntries;
                RandomAccess.Write(_file, MemoryMarshal.AsBytes(_blocks[i].AsSpan(0, count)), _fileEntries * EntryBytes);
                _fileEntries += count;
            }

            ReleaseBlocks();
        }

        /// <summary>Visits the file entries then the in-memory ones, in insertion order.</summary>
        public void ForEachChunk(Action<ReadOnlySpan<IndexEntry>> visit)
        {
            if (_file is not null)
            {
                var chunk = new IndexEntry[BlockEntries];
                for (long at = 0; at < _fileEntries; at += BlockEntries)
                {
                    int count = (int)Math.Min(BlockEntries, _fileEntries - at);
                    Span<byte> bytes = MemoryMarshal.AsBytes(chunk.AsSpan(0, count));
                    int got = 0;
                    while (got < bytes.Length)
                    {
                        int n = RandomAccess.Read(_file, bytes[got..], (at * EntryBytes) + got);
                        if (n == 0)
                        {
                            throw new InvalidOperationException("A dedup index file is shorter than expected.");
                        }

                        got += n;
                    }

                    visit(chunk.AsSpan(0, count));
                }
            }

            for (int i = 0; i < _blocks.Count; i++)
            {
                visit(_blocks[i].AsSpan(0, i == _blocks.Count - 1 ? _lastCount : BlockEntries));
            }
        }

        public void Dispose()
        {
            ReleaseBlocks();
            _file?.Dispose();
            _file = null;
            _fileEntries = 0;
        }

        private static int EntryBytes => System.Runtime.CompilerServices.Unsafe.SizeOf<IndexEntry>();

        private void ReleaseBlocks()
        {
            foreach (var block in _blocks)
            {
                store._freeBlocks.Push(block);
            }

            _blocks.Clear();
            _lastCount = BlockEntries;
        }
    }
}
