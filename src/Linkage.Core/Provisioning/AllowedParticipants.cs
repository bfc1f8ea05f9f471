using System.Buffers.Binary;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.Provisioning;

/// <summary>
/// The people a project may receive rows about, as TRE id tokens (the 16 raw bytes of each 22-character token under the
/// processor-id key): an immutable open-addressing hash set, built once per project provision and shared by all its
/// dataset files.
/// </summary>
/// <remarks>
/// Memory is 16 bytes a slot at a load of at most one half: 250,000 members (UK LLC's scale) take 8 MiB, and the size
/// depends only on the members, never on the files. Tokens are AES outputs, so their bits are already uniform; they are
/// still mixed before use, so a structured set (tests, long-STUDY_ID digests) cannot cluster. Thread-safe for reading.
/// </remarks>
public sealed class AllowedParticipants
{
    private readonly TokenBytes[] _slots;
    private readonly int _mask;
    private readonly bool _hasZero;
    private readonly int _zeroSlot;

    private AllowedParticipants(List<TokenBytes> members)
    {
        var capacity = 16;
        while (capacity < members.Count * 2)
        {
            capacity <<= 1;
        }

        // One spare slot, past the table, stands for the all-zero token (a zero slot means "empty").
        _slots = new TokenBytes[capacity + 1];
        _mask = capacity - 1;
        _zeroSlot = capacity;
        foreach (var member in members)
        {
            if (member == default)
            {
                _hasZero = true;
                continue;
            }

            var i = Home(member.High, member.Low);
            while (true)
            {
                var slot = _slots[i];
                if (slot == default)
                {
                    _slots[i] = member;
                    Count++;
                    break;
                }

                if (slot == member)
                {
                    break;
                }

                i = (i + 1) & _mask;
            }
        }

        if (_hasZero)
        {
            Count++;
        }
    }

    /// <summary>Distinct members.</summary>
    public int Count { get; }

    /// <summary>The size of the table in bytes (bounded by the members, not the files).</summary>
    public long MemoryBytes => _slots.LongLength * 16;

    /// <summary>Slots, for a per-slot side table (e.g. a bit per member seen): <see cref="SlotOf"/> is below this.</summary>
    internal int SlotCount => _slots.Length;

    /// <summary>From TRE id tokens (22 characters each). A malformed token is refused without echoing it.</summary>
    public static AllowedParticipants FromTokens(IEnumerable<string> treIdTokens)
    {
        ArgumentNullException.ThrowIfNull(treIdTokens);
        var members = new List<TokenBytes>();
        var n = 0;
        foreach (var token in treIdTokens)
        {
            n++;
            if (!TokenBytes.TryParse(token, out var value))
            {
                throw new InvalidTokenException($"Member {n} of the allowed set is not a 22-character token.");
            }

            members.Add(value);
        }

        return new AllowedParticipants(members);
    }

    /// <summary>From raw 16-byte TRE id blocks laid end to end (n×16 bytes).</summary>
    public static AllowedParticipants FromBlocks(ReadOnlySpan<byte> blocks)
    {
        if (blocks.Length % 16 != 0)
        {
            throw new ArgumentException("Blocks are a multiple of 16 bytes.", nameof(blocks));
        }

        var members = new List<TokenBytes>(blocks.Length / 16);
        for (var at = 0; at < blocks.Length; at += 16)
        {
            members.Add(TokenBytes.FromBytes(blocks.Slice(at, 16)));
        }

        return new AllowedParticipants(members);
    }

    /// <summary>From decoded TRE ids (e.g. the keys of a permission snapshot).</summary>
    public static AllowedParticipants FromTokenBytes(IEnumerable<TokenBytes> treIds)
    {
        ArgumentNullException.ThrowIfNull(treIds);
        return new AllowedParticipants([.. treIds]);
    }

    public bool Contains(TokenBytes treId) => SlotOf(treId.High, treId.Low) >= 0;

    /// <summary>Whether a 22-character TRE id token is a member (false for a malformed token).</summary>
    public bool Contains(ReadOnlySpan<char> treIdToken) => TokenBytes.TryParse(treIdToken, out var value) && Contains(value);

    /// <summary>The member's slot (below <see cref="SlotCount"/>), or -1 when the 16-byte block is not a member.</summary>
    internal int SlotOf(ReadOnlySpan<byte> block) =>
        SlotOf(BinaryPrimitives.ReadUInt64BigEndian(block), BinaryPrimitives.ReadUInt64BigEndian(block[8..]));

    /// <summary>
    /// <see cref="SlotOf(ReadOnlySpan{byte})"/> for n blocks at once (n×16 bytes → n slots): each block's home slot is
    /// prefetched a few lookups ahead, so the cache misses of a large set overlap instead of queueing one by one.
    /// </summary>
    internal unsafe void SlotsOf(ReadOnlySpan<byte> blocks, Span<int> slots)
    {
        const int Ahead = 16;
        var n = slots.Length;
        if (blocks.Length < n * 16)
        {
            throw new ArgumentException("One 16-byte block per slot.", nameof(blocks));
        }

        Span<int> homes = stackalloc int[Ahead];
        fixed (TokenBytes* table = _slots)
        {
            for (var k = 0; k < n + Ahead; k++)
            {
                // Look up block k - Ahead (prefetched earlier), then prefetch block k into its freed place.
                var j = k - Ahead;
                if (j >= 0)
                {
                    var block = blocks.Slice(j * 16, 16);
                    slots[j] = SlotFrom(homes[j % Ahead], BinaryPrimitives.ReadUInt64BigEndian(block), BinaryPrimitives.ReadUInt64BigEndian(block[8..]));
                }

                if (k < n)
                {
                    var block = blocks.Slice(k * 16, 16);
                    var home = Home(BinaryPrimitives.ReadUInt64BigEndian(block), BinaryPrimitives.ReadUInt64BigEndian(block[8..]));
                    homes[k % Ahead] = home;
                    if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
                    {
                        System.Runtime.Intrinsics.X86.Sse.Prefetch0(table + home);
                    }
                }
            }
        }
    }

    private int SlotOf(ulong high, ulong low) => SlotFrom(Home(high, low), high, low);

    private int SlotFrom(int home, ulong high, ulong low)
    {
        if ((high | low) == 0)
        {
            return _hasZero ? _zeroSlot : -1;
        }

        var slots = _slots;
        var i = home;
        while (true)
        {
            var slot = slots[i];
            if (slot.High == high && slot.Low == low)
            {
                return i;
            }

            if ((slot.High | slot.Low) == 0)
            {
                return -1;
            }

            i = (i + 1) & _mask;
        }
    }

    private int Home(ulong high, ulong low) => (int)(((high ^ low) * 0x9E3779B97F4A7C15UL) >> 32) & _mask;
}
