using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Linkage.File2;

/// <summary>
/// A fast 64-bit multiply-fold hash for deduplication buckets. Not cryptographic: equal hashes are always confirmed
/// by comparing bytes, except for <see cref="Digest128"/>, whose two independent halves make a false match ≈2⁻¹²⁸.
/// </summary>
internal static class RowHasher
{
    private const ulong P0 = 0xa0761d6478bd642f;
    private const ulong P1 = 0xe7037ed1a0b428db;
    private const ulong P2 = 0x8ebc6af09c88c6e3;
    private const ulong P3 = 0x589965cc75374cc3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash64(ReadOnlySpan<byte> data, ulong seed = 0x9E3779B97F4A7C15)
    {
        ulong h = seed ^ ((ulong)data.Length * P3);
        int i = 0;
        for (; i + 16 <= data.Length; i += 16)
        {
            ulong a = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            ulong b = BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 8)..]);
            h = Mix(a ^ P1 ^ h, b ^ P2) ^ (h * P0);
        }

        if (i + 8 <= data.Length)
        {
            h = Mix(BinaryPrimitives.ReadUInt64LittleEndian(data[i..]) ^ P1 ^ h, P2 ^ h);
            i += 8;
        }

        ulong tail = 0;
        for (int k = data.Length - 1; k >= i; k--)
        {
            tail = (tail << 8) | data[k];
        }

        h = Mix(tail ^ P1 ^ h, P0 ^ (ulong)(data.Length - i));
        return Mix(h ^ P0, h ^ P3);
    }

    /// <summary>A 128-bit digest of bytes that must count in deduplication but are not kept (see decision 0503).</summary>
    public static void Digest128(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Hash64(data, 0x243F6A8885A308D3));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Hash64(data, 0x13198A2E03707344));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }
}
