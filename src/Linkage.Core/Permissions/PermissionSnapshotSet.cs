using System.Runtime.CompilerServices;

namespace Linkage.Permissions;

/// <summary>
/// The latest permission snapshot of every study merged into one lookup by TTP token: sorted arrays (18 bytes per
/// participant) plus a bucket index on the token's top bits (≈2 bytes per participant), so a lookup reads one bucket
/// of about two entries. Tokens are AES outputs, hence uniformly spread over the buckets.
/// </summary>
public sealed class PermissionSnapshotSet
{
    private readonly ulong[] _high;
    private readonly ulong[] _low;
    private readonly ushort[] _flags;
    private readonly int[] _bucketStart;
    private readonly int _bucketShift;

    private PermissionSnapshotSet(IReadOnlyList<PermissionSnapshotHeader> sources, ulong[] high, ulong[] low, ushort[] flags, int conflicts)
    {
        Sources = sources;
        _high = high;
        _low = low;
        _flags = flags;
        ConflictingTokens = conflicts;
        int bits = Math.Clamp(63 - (int)ulong.LeadingZeroCount((ulong)Math.Max(high.Length, 1)), 1, 28);
        _bucketShift = 64 - bits;
        _bucketStart = new int[(1 << bits) + 1];
        int at = 0;
        for (int b = 0; b < (1 << bits); b++)
        {
            _bucketStart[b] = at;
            while (at < high.Length && (int)(high[at] >> _bucketShift) == b)
            {
                at++;
            }
        }

        _bucketStart[1 << bits] = high.Length;
    }

    /// <summary>The snapshots merged here (one per study: the latest File 1 version given).</summary>
    public IReadOnlyList<PermissionSnapshotHeader> Sources { get; }

    public int Count => _high.Length;

    /// <summary>Tokens found in two studies' snapshots (should be none); they got the intersection of both flag sets.</summary>
    public int ConflictingTokens { get; }

    /// <summary>The distinct TTP key versions of the merged tokens.</summary>
    public IReadOnlyList<string> TokenKeyVersions => Sources.Select(s => s.TokenKeyVersion).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Merges snapshots, keeping only the highest File 1 version of each study.</summary>
    public static PermissionSnapshotSet Merge(IEnumerable<PermissionSnapshot> snapshots)
    {
        var latest = snapshots
            .GroupBy(s => s.Header.StudyCode, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(s => s.Header.File1Version).ThenByDescending(s => s.Header.Created).First())
            .OrderBy(s => s.Header.StudyCode, StringComparer.Ordinal)
            .ToList();
        long total = latest.Sum(s => (long)s.Count);
        if (total > Array.MaxLength)
        {
            throw new PermissionSnapshotException("Too many participants to merge into one permission lookup.");
        }

        var high = new ulong[total];
        var low = new ulong[total];
        var flags = new ushort[total];
        int n = 0;
        int conflicts = 0;
        int[] cursor = new int[latest.Count];
        while (true)
        {
            // K-way merge of sorted arrays; K (studies) is small.
            int best = -1;
            for (int k = 0; k < latest.Count; k++)
            {
                if (cursor[k] < latest[k].Count && (best < 0 || Less(latest[k], cursor[k], latest[best], cursor[best])))
                {
                    best = k;
                }
            }

            if (best < 0)
            {
                break;
            }

            var s = latest[best];
            int i = cursor[best]++;
            if (n > 0 && high[n - 1] == s.High[i] && low[n - 1] == s.Low[i])
            {
                flags[n - 1] &= s.Flags[i];
                conflicts++;
                continue;
            }

            high[n] = s.High[i];
            low[n] = s.Low[i];
            flags[n] = s.Flags[i];
            n++;
        }

        if (n < total)
        {
            Array.Resize(ref high, n);
            Array.Resize(ref low, n);
            Array.Resize(ref flags, n);
        }

        return new PermissionSnapshotSet(latest.Select(s => s.Header).ToList(), high, low, flags, conflicts);
    }

    /// <summary>The participant's flags, or false when the token is in no snapshot (unknown participant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetFlags(TokenBytes token, out PermissionFlags flags)
    {
        int b = (int)(token.High >> _bucketShift);
        int end = _bucketStart[b + 1];
        for (int i = _bucketStart[b]; i < end; i++)
        {
            if (_high[i] == token.High && _low[i] == token.Low)
            {
                flags = (PermissionFlags)_flags[i];
                return true;
            }
        }

        flags = PermissionFlags.None;
        return false;
    }

    /// <summary>
    /// Looks up many tokens at once, as <see cref="TryGetFlags(TokenBytes, out PermissionFlags)"/> would one by one:
    /// <paramref name="flags"/>[i] is the flags of <paramref name="tokens"/>[i], or -1 when it is in no snapshot. All
    /// bucket bounds are read first, then all buckets, so the cache misses of a large set overlap instead of each
    /// waiting behind its row's other work.
    /// </summary>
    public void GetFlags(ReadOnlySpan<TokenBytes> tokens, Span<int> flags)
    {
        if (flags.Length < tokens.Length)
        {
            throw new ArgumentException("One result slot is needed per token.", nameof(flags));
        }

        for (int t = 0; t < tokens.Length; t++)
        {
            flags[t] = _bucketStart[(int)(tokens[t].High >> _bucketShift)];
        }

        for (int t = 0; t < tokens.Length; t++)
        {
            var token = tokens[t];
            int end = _bucketStart[(int)(token.High >> _bucketShift) + 1];
            int found = -1;
            for (int i = flags[t]; i < end; i++)
            {
                if (_high[i] == token.High && _low[i] == token.Low)
                {
                    found = _flags[i];
                    break;
                }
            }

            flags[t] = found;
        }
    }

    /// <summary>
    /// As <see cref="GetFlags(ReadOnlySpan{TokenBytes}, Span{int})"/>, and also each token's index in this set
    /// (0 ≤ index &lt; <see cref="Count"/>; -1 when unknown): a dense participant number, so a run can count distinct
    /// people in a bitset of <see cref="Count"/> bits.
    /// </summary>
    public void GetFlags(ReadOnlySpan<TokenBytes> tokens, Span<int> flags, Span<int> indexes)
    {
        if (flags.Length < tokens.Length || indexes.Length < tokens.Length)
        {
            throw new ArgumentException("One result slot is needed per token.", nameof(flags));
        }

        for (int t = 0; t < tokens.Length; t++)
        {
            flags[t] = _bucketStart[(int)(tokens[t].High >> _bucketShift)];
        }

        for (int t = 0; t < tokens.Length; t++)
        {
            var token = tokens[t];
            int end = _bucketStart[(int)(token.High >> _bucketShift) + 1];
            int found = -1;
            int index = -1;
            for (int i = flags[t]; i < end; i++)
            {
                if (_high[i] == token.High && _low[i] == token.Low)
                {
                    found = _flags[i];
                    index = i;
                    break;
                }
            }

            flags[t] = found;
            indexes[t] = index;
        }
    }

    public bool TryGetFlags(ReadOnlySpan<char> ttpToken, out PermissionFlags flags)
    {
        if (TokenBytes.TryParse(ttpToken, out var token))
        {
            return TryGetFlags(token, out flags);
        }

        flags = PermissionFlags.None;
        return false;
    }

    private static bool Less(PermissionSnapshot a, int i, PermissionSnapshot b, int j) =>
        a.High[i] < b.High[j] || (a.High[i] == b.High[j] && a.Low[i] < b.Low[j]);
}
