using Linkage.Permissions;
using Linkage.Provisioning;

namespace Linkage.Core.Tests.Provisioning;

/// <summary>The allowed set's two table memories (2 MiB-aligned native with huge-page advice, pinned managed) and their lifetime.</summary>
public sealed class AllowedParticipantsTableTests
{
    private static byte[] RandomBlocks(int count, int seed)
    {
        var blocks = new byte[count * 16];
        new Random(seed).NextBytes(blocks);
        return blocks;
    }

    [Fact]
    public void Native_and_managed_tables_give_the_same_answers_and_slots_and_no_false_positives()
    {
        var members = RandomBlocks(20_000, 1);
        members.AsSpan(16 * 5, 16).Clear(); // the all-zero token, held apart from the table
        using var native = AllowedParticipants.FromBlocks(members, AllowedParticipants.TableMemory.Native);
        using var managed = AllowedParticipants.FromBlocks(members, AllowedParticipants.TableMemory.Managed);
        Assert.True(native.IsNative);
        Assert.False(managed.IsNative);
        Assert.Equal(managed.Count, native.Count);
        Assert.Equal(managed.MemoryBytes, native.MemoryBytes);
        Assert.Equal(0, native.TableAddress % AllowedParticipants.HugePageBytes);
        Assert.Equal(0, managed.TableAddress % 64); // buckets on cache lines

        // Queries: every member, then each member with one bit flipped (near misses: never members).
        var queries = new byte[members.Length * 2];
        members.CopyTo(queries, 0);
        members.CopyTo(queries, members.Length);
        var random = new Random(2);
        for (var q = 20_000; q < 40_000; q++)
        {
            queries[(q * 16) + random.Next(16)] ^= (byte)(1 << random.Next(8));
        }

        var nativeSlots = new int[40_000];
        var managedSlots = new int[40_000];
        native.SlotsOf(queries, nativeSlots);
        managed.SlotsOf(queries, managedSlots);
        Assert.Equal(managedSlots, nativeSlots);
        for (var q = 0; q < 40_000; q++)
        {
            var block = queries.AsSpan(q * 16, 16);
            var member = q < 20_000;
            Assert.Equal(member, nativeSlots[q] >= 0);
            Assert.Equal(nativeSlots[q], native.SlotOf(block));
            Assert.Equal(member, native.Contains(TokenBytes.FromBytes(block)));
            Assert.Equal(member, managed.Contains(TokenBytes.FromBytes(block)));
        }
    }

    [Fact]
    public void A_large_set_on_linux_gets_an_aligned_native_table_advised_for_huge_pages_and_a_small_one_a_managed_array()
    {
        using var small = AllowedParticipants.FromBlocks(RandomBlocks(1000, 3));
        Assert.False(small.IsNative);
        Assert.False(small.HugePagesAdvised);

        using var large = AllowedParticipants.FromBlocks(RandomBlocks(70_000, 4)); // 2^18 slots: 4 MiB
        Assert.Equal(4L << 20, large.MemoryBytes);
        Assert.Equal(OperatingSystem.IsLinux(), large.IsNative);
        if (large.IsNative)
        {
            Assert.Equal(0, large.TableAddress % AllowedParticipants.HugePageBytes);
            var thp = "/sys/kernel/mm/transparent_hugepage/enabled";
            if (File.Exists(thp) && !File.ReadAllText(thp).Contains("[never]", StringComparison.Ordinal))
            {
                Assert.True(large.HugePagesAdvised);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_disposed_set_refuses_lookups_and_disposing_twice_is_harmless(bool native)
    {
        var memory = native ? AllowedParticipants.TableMemory.Native : AllowedParticipants.TableMemory.Managed;
        var members = RandomBlocks(100, 5);
        var set = AllowedParticipants.FromBlocks(members, memory);
        Assert.True(set.Contains(TokenBytes.FromBytes(members.AsSpan(0, 16))));
        set.Dispose();
        set.Dispose();
        Assert.Throws<ObjectDisposedException>(() => set.Contains(TokenBytes.FromBytes(members.AsSpan(0, 16))));
        Assert.Throws<ObjectDisposedException>(() => set.SlotsOf(members, new int[100]));
    }

    [Fact]
    public void An_undisposed_native_set_is_freed_by_its_finalizer()
    {
        // A long weak reference to the table's SafeHandle is cleared only once the handle's finalizer (which frees the
        // native memory) has run and the handle is collected.
        var handle = Create();
        for (var i = 0; i < 10 && handle.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(handle.IsAlive);

        static WeakReference Create()
        {
            var set = AllowedParticipants.FromBlocks(RandomBlocks(100_000, 6), AllowedParticipants.TableMemory.Native);
            Assert.True(set.Contains(TokenBytes.FromBytes(RandomBlocks(1, 6))));
            Assert.NotNull(set.NativeHandle);
            return new WeakReference(set.NativeHandle, trackResurrection: true);
        }
    }

    [Fact]
    public void A_disposed_native_set_has_released_its_handle()
    {
        var set = AllowedParticipants.FromBlocks(RandomBlocks(100, 7), AllowedParticipants.TableMemory.Native);
        var handle = set.NativeHandle!;
        Assert.False(handle.IsClosed);
        set.Dispose();
        Assert.True(handle.IsClosed);
    }
}

public sealed class AllowedParticipantsBucketTests
{
    [Fact]
    public void The_128_bit_probe_gives_the_same_slots_as_the_default_probe()
    {
        var members = new byte[30_000 * 16];
        new Random(8).NextBytes(members);
        var queries = new byte[60_000 * 16];
        members.CopyTo(queries, 0);
        new Random(9).NextBytes(queries.AsSpan(members.Length));
        using var set = AllowedParticipants.FromBlocks(members);
        var byDefault = new int[60_000];
        var by128 = new int[60_000];
        set.SlotsOf(queries, byDefault);
        AllowedParticipants.ForceVector128 = true;
        try
        {
            set.SlotsOf(queries, by128);
            Assert.True(set.Contains(Linkage.Permissions.TokenBytes.FromBytes(members.AsSpan(0, 16))));
        }
        finally
        {
            AllowedParticipants.ForceVector128 = false;
        }

        Assert.Equal(byDefault, by128);
        Assert.All(byDefault.AsSpan(0, 30_000).ToArray(), s => Assert.True(s >= 0));
        Assert.All(byDefault.AsSpan(30_000).ToArray(), s => Assert.Equal(-1, s));
    }

    [Fact]
    public void Overflowing_buckets_give_the_same_answers_with_the_128_bit_probe()
    {
        AllowedParticipants.ForceVector128 = true;
        try
        {
            Members_that_all_share_one_home_bucket_overflow_into_the_next_buckets_and_are_all_found(native: true);
            Keys_with_a_zero_half_are_members_like_any_other_and_are_not_taken_for_free_slots();
        }
        finally
        {
            AllowedParticipants.ForceVector128 = false;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Members_that_all_share_one_home_bucket_overflow_into_the_next_buckets_and_are_all_found(bool native)
    {
        // high == low makes every key's hash input zero: one home bucket for all, so 300 members run over 75 buckets.
        var members = new byte[300 * 16];
        for (var i = 0; i < 300; i++)
        {
            var value = (ulong)(i + 1) * 0x0101010101010101UL;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(members.AsSpan(i * 16), value);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(members.AsSpan((i * 16) + 8), value);
        }

        using var set = AllowedParticipants.FromBlocks(members, native ? AllowedParticipants.TableMemory.Native : AllowedParticipants.TableMemory.Managed);
        Assert.Equal(300, set.Count);
        var slots = new int[300];
        set.SlotsOf(members, slots);
        Assert.Equal(300, slots.Distinct().Count());
        Assert.All(slots, s => Assert.InRange(s, 0, set.SlotCount - 1));

        // Non-members with the same home (and one differing only in the low half) are never found.
        for (var i = 300; i < 400; i++)
        {
            var value = (ulong)(i + 1) * 0x0101010101010101UL;
            Assert.False(set.Contains(new Linkage.Permissions.TokenBytes(value, value)));
        }

        Assert.False(set.Contains(new Linkage.Permissions.TokenBytes(0x0101010101010101UL, 0x0101010101010102UL)));
        Assert.False(set.Contains(new Linkage.Permissions.TokenBytes(0, 0x0101010101010101UL)));
        Assert.False(set.Contains(new Linkage.Permissions.TokenBytes(0x0101010101010101UL, 0)));
    }

    [Fact]
    public void Keys_with_a_zero_half_are_members_like_any_other_and_are_not_taken_for_free_slots()
    {
        var set = AllowedParticipants.FromTokenBytes([new(0, 1), new(1, 0), new(0, ulong.MaxValue), new(ulong.MaxValue, 0)]);
        Assert.Equal(4, set.Count);
        Assert.True(set.Contains(new Linkage.Permissions.TokenBytes(0, 1)));
        Assert.True(set.Contains(new Linkage.Permissions.TokenBytes(1, 0)));
        Assert.True(set.Contains(new Linkage.Permissions.TokenBytes(0, ulong.MaxValue)));
        Assert.True(set.Contains(new Linkage.Permissions.TokenBytes(ulong.MaxValue, 0)));
        Assert.False(set.Contains(new Linkage.Permissions.TokenBytes(0, 2)));
        Assert.False(set.Contains(new Linkage.Permissions.TokenBytes(2, 0)));
        Assert.False(set.Contains(default(Linkage.Permissions.TokenBytes)));
    }
}
