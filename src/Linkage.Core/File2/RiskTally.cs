using System.Runtime.InteropServices;

namespace Linkage.File2;

/// <summary>
/// Counts rows per cell of each key marginal and per quasi-identifier combination. Keys are interned to ids while
/// reading (so the staged row carries ids) and counted on the deduplicated replay, so counts describe the output.
/// Keys are held as 64-bit hashes (two distinct keys merging is a ≈2⁻⁶⁴ event per pair); marginal groupings also
/// keep each cell's text for the report. Each grouping tracks at most a fixed number of keys; rows beyond it make
/// the report say tracking was incomplete.
/// </summary>
internal sealed class RiskTally
{
    private readonly Grouping[] _groupings;

    public RiskTally(int groupings, int keysPerGrouping, int labelledGroupings)
    {
        _groupings = new Grouping[groupings];
        for (int i = 0; i < groupings; i++)
        {
            _groupings[i] = new Grouping(keysPerGrouping, keepLabels: i < labelledGroupings);
        }
    }

    public int Count => _groupings.Length;

    /// <summary>Returned by <see cref="Find"/> for a key not yet interned.</summary>
    public const int Absent = -2;

    /// <summary>The id of a key in grouping <paramref name="g"/>, or -1 when the grouping is full.</summary>
    public int Intern(int g, ReadOnlySpan<char> key) => _groupings[g].Intern(key);

    /// <summary>The id of an interned key by its <see cref="KeyHash"/>, or <see cref="Absent"/> (then call <see cref="Intern"/>).</summary>
    public int Find(int g, ulong hash) => _groupings[g].Find(hash);

    /// <summary>The hash a key is interned under (so another thread can compute it ahead of <see cref="Find"/>).</summary>
    public static ulong KeyHash(ReadOnlySpan<char> key) => RowHasher.Hash64(MemoryMarshal.AsBytes(key));

    public void Add(int g, int id) => _groupings[g].Add(id);

    /// <summary>Non-empty cells: label (marginals only; empty otherwise) and count.</summary>
    public IEnumerable<(string Key, long Count)> Cells(int g) => _groupings[g].Cells();

    public long UntrackedRows(int g) => _groupings[g].Untracked;

    /// <summary>One grouping: an open-addressing table of 64-bit key hashes → dense ids, with counts per id.</summary>
    private sealed class Grouping(int capacity, bool keepLabels)
    {
        private readonly List<string> _labels = [];

        // Hash and id side by side, so a probe touches one cache line; Id holds id + 1 (0 = empty slot).
        private Slot[] _slots = new Slot[1024];
        private long[] _counts = new long[256];
        private int _count;

        public long Untracked { get; private set; }

        public int Find(ulong hash)
        {
            Slot[] slots = _slots;
            int mask = slots.Length - 1;
            int slot = SlotOf(hash, mask);
            while (slots[slot].Id != 0)
            {
                if (slots[slot].Hash == hash)
                {
                    return slots[slot].Id - 1;
                }

                slot = (slot + 1) & mask;
            }

            return Absent;
        }

        public int Intern(ReadOnlySpan<char> key)
        {
            ulong hash = KeyHash(key);
            int mask = _slots.Length - 1;
            int slot = SlotOf(hash, mask);
            while (_slots[slot].Id != 0)
            {
                if (_slots[slot].Hash == hash)
                {
                    return _slots[slot].Id - 1;
                }

                slot = (slot + 1) & mask;
            }

            if (_count >= capacity)
            {
                return -1;
            }

            int id = _count++;
            _slots[slot] = new Slot(hash, id + 1);
            if (keepLabels)
            {
                _labels.Add(key.ToString());
            }

            if (id >= _counts.Length)
            {
                Array.Resize(ref _counts, _counts.Length * 2);
            }

            if (_count * 2 > _slots.Length)
            {
                Grow();
            }

            return id;
        }

        public void Add(int id)
        {
            if (id < 0)
            {
                Untracked++;
            }
            else
            {
                _counts[id]++;
            }
        }

        public IEnumerable<(string Key, long Count)> Cells()
        {
            for (int i = 0; i < _count; i++)
            {
                if (_counts[i] > 0)
                {
                    yield return (keepLabels ? _labels[i] : "", _counts[i]);
                }
            }
        }

        /// <summary>Fibonacci hashing: spreads any weakness in the hash's low bits over the table.</summary>
        private static int SlotOf(ulong hash, int mask) => (int)((hash * 0x9E3779B97F4A7C15UL) >> 40) & mask;

        private void Grow()
        {
            Slot[] old = _slots;
            _slots = new Slot[old.Length * 2];
            int mask = _slots.Length - 1;
            foreach (var entry in old)
            {
                if (entry.Id == 0)
                {
                    continue;
                }

                int slot = SlotOf(entry.Hash, mask);
                while (_slots[slot].Id != 0)
                {
                    slot = (slot + 1) & mask;
                }

                _slots[slot] = entry;
            }
        }

        private readonly record struct Slot(ulong Hash, int Id);
    }
}
