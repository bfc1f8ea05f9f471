using System.Runtime.InteropServices;

namespace Linkage.File1;

/// <summary>
/// Per-participant state for the one-current-row rule, kept compact: a 64-bit hash of the STUDY_ID (never the
/// id itself) maps to the first line, the number of C rows and a 52-bit signature of the participant's flags.
/// About 36 bytes per participant (more while the table grows), so 500,000 participants take roughly 20–40 MB. Two different STUDY_IDs
/// share a hash with probability about n²/2⁶⁵ (≈ 7·10⁻⁹ for 500,000), which would merge their counts.
/// </summary>
internal sealed class ParticipantTracker
{
    private readonly Dictionary<ulong, State> _states = [];

    public int Count => _states.Count;

    /// <summary>Records a row; returns how many C rows the participant now has and whether its flags differ from its first row's.</summary>
    public (int CurrentRows, bool FlagsDiffer) Add(ReadOnlySpan<char> studyId, bool isCurrent, ulong flagSignature, long line)
    {
        ref var state = ref CollectionsMarshal.GetValueRefOrAddDefault(_states, Hash(studyId), out bool exists);
        bool differ = false;
        if (!exists)
        {
            state.FirstLine = (int)Math.Min(line, int.MaxValue);
            state.Flags = flagSignature;
        }
        else
        {
            differ = state.Flags != flagSignature;
        }

        if (isCurrent && state.CurrentRows < byte.MaxValue)
        {
            state.CurrentRows++;
        }

        return (state.CurrentRows, differ);
    }

    /// <summary>First lines (lowest first, at most <paramref name="max"/>) of participants without a C row, and how many there are.</summary>
    public (List<long> FirstLines, long Count) WithoutCurrentRow(int max)
    {
        // A max-heap of the smallest line numbers seen, so the answer costs O(n log max) and little memory.
        var heap = new PriorityQueue<long, long>(Comparer<long>.Create((a, b) => b.CompareTo(a)));
        long count = 0;
        foreach (var state in _states.Values)
        {
            if (state.CurrentRows != 0)
            {
                continue;
            }

            count++;
            if (heap.Count < max)
            {
                heap.Enqueue(state.FirstLine, state.FirstLine);
            }
            else if (max > 0 && state.FirstLine < heap.Peek())
            {
                heap.EnqueueDequeue(state.FirstLine, state.FirstLine);
            }
        }

        var lines = new List<long>(heap.Count);
        while (heap.Count > 0)
        {
            lines.Add(heap.Dequeue());
        }

        lines.Reverse();
        return (lines, count);
    }

    /// <summary>FNV-1a over the UTF-16 code units, then a 64-bit finaliser (MurmurHash3 fmix64) to spread the bits.</summary>
    internal static ulong Hash(ReadOnlySpan<char> value)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in value)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        h ^= (ulong)value.Length;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }

    private struct State
    {
        public int FirstLine;
        public ulong Flags;
        public byte CurrentRows;
    }
}
