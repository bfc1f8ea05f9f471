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

    /// <summary>The id of a key in grouping <paramref name="g"/>, or -1 when the grouping is full.</summary>
    public int Intern(int g, ReadOnlySpan<char> key) => _groupings[g].Intern(key);

    public void Add(int g, int id) => _groupings[g].Add(id);

    /// <summary>Non-empty cells: label (marginals only; empty otherwise) and count.</summary>
    public IEnumerable<(string Key, long Count)> Cells(int g) => _groupings[g].Cells();

    public long UntrackedRows(int g) => _groupings[g].Untracked;

    private sealed class Grouping(int capacity, bool keepLabels)
    {
        private readonly Dictionary<ulong, int> _ids = [];
        private readonly List<string> _labels = [];
        private long[] _counts = new long[256];

        public long Untracked { get; private set; }

        public int Intern(ReadOnlySpan<char> key)
        {
            ulong hash = RowHasher.Hash64(MemoryMarshal.AsBytes(key));
            if (_ids.TryGetValue(hash, out int id))
            {
                return id;
            }

            if (_ids.Count >= capacity)
            {
                return -1;
            }

            id = _ids.Count;
            _ids.Add(hash, id);
            if (keepLabels)
            {
                _labels.Add(key.ToString());
            }

            if (id >= _counts.Length)
            {
                Array.Resize(ref _counts, _counts.Length * 2);
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
            for (int i = 0; i < _ids.Count; i++)
            {
                if (_counts[i] > 0)
                {
                    yield return (keepLabels ? _labels[i] : "", _counts[i]);
                }
            }
        }
    }
}
