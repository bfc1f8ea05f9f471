using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.Provisioning;

/// <summary>
/// The people a project may receive rows about, as TRE id tokens (the 16 raw bytes of each 22-character token under the
/// processor-id key): an immutable open-addressing hash set of 64-byte buckets (4 slots, probed one bucket at a time), built once per project provision and shared by all its
/// dataset files.
/// </summary>
/// <remarks>
/// Memory is 16 bytes a slot at a load of at most one half: 250,000 members (UK LLC's scale) take 8 MiB, and the size
/// depends only on the members, never on the files. Tokens are AES outputs, so their bits are already uniform; they are
/// still mixed before use, so a structured set (tests, long-STUDY_ID digests) cannot cluster. Every lookup compares all
/// 16 bytes: a non-member is never reported as a member. Thread-safe for reading.
/// <para>A table of 2 MiB or more lives, on Linux, in 2 MiB-aligned native memory advised for transparent huge pages
/// (<c>madvise(MADV_HUGEPAGE)</c>): the lookups land at random in the table, and with 4 KiB pages nearly every one also
/// missed the TLB. Elsewhere, or for small tables, it is a pinned managed array; the lookups are the same code. The
/// native table is freed by <see cref="Dispose"/> or, if the owner forgets, by the finalizer (a
/// <see cref="SafeHandle"/>); a lookup after <see cref="Dispose"/> throws <see cref="ObjectDisposedException"/>, and a
/// lookup racing a dispose holds the memory until it returns.</para>
/// </remarks>
public sealed unsafe partial class AllowedParticipants : IDisposable
{
    /// <summary>Tests only: probe with the 128-bit vectors even where 256-bit ones are available (both are cross-checked).</summary>
    internal static bool ForceVector128 { get; set; }

    /// <summary>Slots a bucket: 4 × 16 bytes, one cache line (aligned): the 4 high halves, then the 4 low halves.</summary>
    private const int BucketSlots = 4;

    /// <summary>8-byte words a bucket (one 64-byte line).</summary>
    private const int LineWords = BucketSlots * 2;

    /// <summary>Tables of at least this many bytes are put in native memory aligned to (and advised for) huge pages.</summary>
    internal const int HugePageBytes = 2 << 20;

    private readonly ulong* _table; // buckets of LineWords words: highs, then lows
    private readonly NativeTable? _native; // null: the table is the pinned array below
    private readonly ulong[]? _managed;
    private readonly int _bucketMask;
    private readonly bool _hasZero;
    private readonly int _zeroSlot;
    private volatile bool _disposed;

    /// <summary>Where the table lives: chosen by size and platform, or forced (tests).</summary>
    internal enum TableMemory
    {
        Auto,
        Managed,
        Native,
    }

    private AllowedParticipants(List<TokenBytes> members, TableMemory memory)
    {
        var capacity = 16;
        while (capacity < members.Count * 2)
        {
            capacity <<= 1;
        }

        // The all-zero token marks an empty slot, so it is held apart: slot index `capacity` (past the table) stands for
        // it in SlotOf's answers and per-slot side tables, and is never read from the table.
        var bytes = (nuint)capacity * 16;
        if (memory == TableMemory.Native || (memory == TableMemory.Auto && OperatingSystem.IsLinux() && bytes >= HugePageBytes))
        {
            _native = NativeTable.Allocate(bytes);
            _table = (ulong*)_native.DangerousGetHandle();
            HugePagesAdvised = _native.HugePagesAdvised;
        }
        else
        {
            // Pinned (its address is fixed), with one bucket to spare so the table can start on a 64-byte line.
            _managed = GC.AllocateArray<ulong>((capacity * 2) + LineWords, pinned: true);
            var start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_managed));
            _table = (ulong*)((start + 63) & ~(nint)63);
        }

        _bucketMask = (capacity / BucketSlots) - 1;
        _zeroSlot = capacity;
        foreach (var member in members)
        {
            if (member == default)
            {
                _hasZero = true;
                continue;
            }

            // Into the first slot free in the home bucket or, when it is full, the next bucket along (no deletions, so a
            // bucket with a free slot ends every probe that reaches it).
            var bucket = HomeBucket(member.High, member.Low);
            while (!TryPlace(bucket, member))
            {
                bucket = (bucket + 1) & _bucketMask;
            }
        }

        if (_hasZero)
        {
            Count++;
        }
    }

    /// <summary>Distinct members.</summary>
    public int Count { get; private set; }

    /// <summary>The size of the table in bytes (bounded by the members, not the files).</summary>
    public long MemoryBytes => (_bucketMask + 1L) * BucketSlots * 16;

    /// <summary>True when the table is in native memory that the kernel accepted to back with transparent huge pages.</summary>
    public bool HugePagesAdvised { get; }

    /// <summary>True when the table is in native memory (2 MiB-aligned), false for the managed fallback.</summary>
    internal bool IsNative => _native is not null;

    /// <summary>The native table's handle, for the tests of its finalization; null for a managed table.</summary>
    internal SafeHandle? NativeHandle => _native;

    /// <summary>Where the table starts (tests check the alignment).</summary>
    internal nint TableAddress => (nint)_table;

    /// <summary>Slots, for a per-slot side table (e.g. a bit per member seen): <see cref="SlotOf"/> is below this.</summary>
    internal int SlotCount => _zeroSlot + 1;

    /// <summary>Frees a native table now (else the finalizer does); later lookups throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        _native?.Dispose();
    }

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

        return new AllowedParticipants(members, TableMemory.Auto);
    }

    /// <summary>From raw 16-byte TRE id blocks laid end to end (n×16 bytes).</summary>
    public static AllowedParticipants FromBlocks(ReadOnlySpan<byte> blocks) => FromBlocks(blocks, TableMemory.Auto);

    /// <summary><see cref="FromBlocks(ReadOnlySpan{byte})"/> with the table's memory chosen by the caller (tests).</summary>
    internal static AllowedParticipants FromBlocks(ReadOnlySpan<byte> blocks, TableMemory memory)
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

        return new AllowedParticipants(members, memory);
    }

    /// <summary>From decoded TRE ids (e.g. the keys of a permission snapshot).</summary>
    public static AllowedParticipants FromTokenBytes(IEnumerable<TokenBytes> treIds)
    {
        ArgumentNullException.ThrowIfNull(treIds);
        return new AllowedParticipants([.. treIds], TableMemory.Auto);
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
    internal void SlotsOf(ReadOnlySpan<byte> blocks, Span<int> slots)
    {
        const int Ahead = 32; // lookups in flight: a miss to memory costs far more than the work between two of them
        var n = slots.Length;
        if (blocks.Length < n * 16)
        {
            throw new ArgumentException("One 16-byte block per slot.", nameof(blocks));
        }

        var held = Enter();
        try
        {
            // Locals, not fields: the stores through `result` could alias the fields, so the JIT would reload them.
            var table = _table;
            var mask = _bucketMask;
            var zeroAnswer = _hasZero ? _zeroSlot : -1;
            fixed (byte* first = blocks)
            fixed (int* result = slots)
            {
                // Prefetch the home buckets of the first lookups, then look up block k while prefetching block k + Ahead
                // (the home is recomputed at lookup time: cheaper than keeping a ring of them).
                for (var k = 0; k < Math.Min(n, Ahead); k++)
                {
                    Prefetch(table + (HomeBucket(BigEndian(first + (k * 16)), BigEndian(first + (k * 16) + 8), mask) * LineWords));
                }

                for (var k = 0; k < n; k++)
                {
                    if (k + Ahead < n)
                    {
                        var ahead = first + ((k + Ahead) * 16);
                        Prefetch(table + (HomeBucket(BigEndian(ahead), BigEndian(ahead + 8), mask) * LineWords));
                    }

                    var high = BigEndian(first + (k * 16));
                    var low = BigEndian(first + (k * 16) + 8);
                    result[k] = (high | low) == 0 ? zeroAnswer : Probe(table, mask, HomeBucket(high, low, mask), high, low);
                }
            }
        }
        finally
        {
            Exit(held);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(void* address)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(address);
        }
    }

    /// <summary>The 8 bytes at <paramref name="at"/> as a big-endian number (as <see cref="TokenBytes.FromBytes"/> reads them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong BigEndian(byte* at) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(at)) : Unsafe.ReadUnaligned<ulong>(at);

    private int SlotOf(ulong high, ulong low)
    {
        var held = Enter();
        try
        {
            return SlotFrom(HomeBucket(high, low), high, low);
        }
        finally
        {
            Exit(held);
        }
    }

    /// <summary>Keeps a native table alive for the lookups in progress; throws once disposed.</summary>
    private bool Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var held = false;
        _native?.DangerousAddRef(ref held);
        return held;
    }

    private void Exit(bool held)
    {
        if (held)
        {
            _native!.DangerousRelease();
        }
    }

    /// <summary>
    /// The slot holding (<paramref name="high"/>, <paramref name="low"/>), or -1. A bucket is one 64-byte line: its 4
    /// high halves, then its 4 low halves, so two 256-bit loads, three compares and two mask extractions find the
    /// member and the free slots (the interleaved layout needed four loads, eight compares and eight extractions, or
    /// 512-bit ones: 11–13 ns a lookup in a loop against the 8 MiB table, 8–10 ns now, 2026-12-04). A lookup that ends in
    /// its home bucket, nearly all of them at a load of one half, takes one branch that is almost always predicted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SlotFrom(int bucket, ulong high, ulong low) =>
        (high | low) == 0 ? (_hasZero ? _zeroSlot : -1) : Probe(_table, _bucketMask, bucket, high, low);

    /// <summary>The probe of <see cref="SlotFrom"/> for a non-zero key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Probe(ulong* table, int bucketMask, int bucket, ulong high, ulong low)
    {
        if (Vector256.IsHardwareAccelerated && !ForceVector128)
        {
            var highKey = Vector256.Create(high);
            var lowKey = Vector256.Create(low);
            while (true)
            {
                var line = table + (bucket * LineWords);
                var highs = Vector256.Load(line);
                var lows = Vector256.Load(line + BucketSlots);
                var found = (Vector256.Equals(highs, highKey) & Vector256.Equals(lows, lowKey)).ExtractMostSignificantBits();
                var free = Vector256.Equals(highs | lows, Vector256<ulong>.Zero).ExtractMostSignificantBits();
                if ((found | free) != 0)
                {
                    return found != 0 ? (bucket * BucketSlots) + BitOperations.TrailingZeroCount(found) : -1;
                }

                bucket = (bucket + 1) & bucketMask;
            }
        }

        // The same probe in 128-bit halves (lanes 0–1, then 2–3).
        var high128 = Vector128.Create(high);
        var low128 = Vector128.Create(low);
        while (true)
        {
            var line = table + (bucket * LineWords);
            var highs01 = Vector128.Load(line);
            var highs23 = Vector128.Load(line + 2);
            var lows01 = Vector128.Load(line + BucketSlots);
            var lows23 = Vector128.Load(line + BucketSlots + 2);
            var found = (Vector128.Equals(highs01, high128) & Vector128.Equals(lows01, low128)).ExtractMostSignificantBits()
                | ((Vector128.Equals(highs23, high128) & Vector128.Equals(lows23, low128)).ExtractMostSignificantBits() << 2);
            var free = Vector128.Equals(highs01 | lows01, Vector128<ulong>.Zero).ExtractMostSignificantBits()
                | (Vector128.Equals(highs23 | lows23, Vector128<ulong>.Zero).ExtractMostSignificantBits() << 2);
            if ((found | free) != 0)
            {
                return found != 0 ? (bucket * BucketSlots) + BitOperations.TrailingZeroCount(found) : -1;
            }

            bucket = (bucket + 1) & bucketMask;
        }
    }

    /// <summary>Puts a member in the bucket's first free slot; false when the bucket is full (and the member not in it).</summary>
    private bool TryPlace(int bucket, TokenBytes member)
    {
        var line = _table + (bucket * LineWords);
        for (var lane = 0; lane < BucketSlots; lane++)
        {
            if ((line[lane] | line[BucketSlots + lane]) == 0)
            {
                line[lane] = member.High;
                line[BucketSlots + lane] = member.Low;
                Count++;
                return true;
            }

            if (line[lane] == member.High && line[BucketSlots + lane] == member.Low)
            {
                return true; // a duplicate
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HomeBucket(ulong high, ulong low) => HomeBucket(high, low, _bucketMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HomeBucket(ulong high, ulong low, int bucketMask) => (int)(((high ^ low) * 0x9E3779B97F4A7C15UL) >> 32) & bucketMask;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>A zeroed, 2 MiB-aligned native table; freed once, by Dispose or the finalizer.</summary>
    private sealed class NativeTable : SafeHandle
    {
        private const int MadvHugePage = 14; // <sys/mman.h>, Linux
        private readonly long _bytes;

        private NativeTable(nint memory, long bytes)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle(memory);
            _bytes = bytes;
            GC.AddMemoryPressure(bytes);
        }

        public bool HugePagesAdvised { get; private set; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public static NativeTable Allocate(nuint bytes)
        {
            var memory = NativeMemory.AlignedAlloc(bytes, HugePageBytes);
            var table = new NativeTable((nint)memory, (long)bytes);

            // Advise before the first touch (the zeroing), so the pages are faulted in as huge pages where the kernel can.
            if (OperatingSystem.IsLinux() && bytes >= HugePageBytes)
            {
                try
                {
                    table.HugePagesAdvised = Madvise((nint)memory, bytes, MadvHugePage) == 0;
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    table.HugePagesAdvised = false; // the table still works, on ordinary pages
                }
            }

            NativeMemory.Clear(memory, bytes);
            return table;
        }

        protected override bool ReleaseHandle()
        {
            NativeMemory.AlignedFree((void*)handle);
            GC.RemoveMemoryPressure(_bytes);
            return true;
        }
    }
}
