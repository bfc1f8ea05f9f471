using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Linkage.File2;

/// <summary>
/// Fast non-cryptographic hashes (XXH3) for deduplication buckets and risk keys. Equal <see cref="Hash64"/> values are
/// always confirmed by comparing bytes (dedup) or are a ≈2⁻⁶⁴ event per pair (risk keys); <see cref="Digest128"/>
/// stands in for bytes that are not kept, so a false match there is a ≈2⁻¹²⁸ event.
/// </summary>
internal static class RowHasher
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash64(ReadOnlySpan<byte> data, ulong seed = 0x9E3779B97F4A7C15) => XxHash3.HashToUInt64(data, unchecked((long)seed));

    /// <summary>A 128-bit digest of bytes that must count in deduplication but are not kept (see decision 0503).</summary>
    public static void Digest128(ReadOnlySpan<byte> data, Span<byte> destination) =>
        XxHash128.Hash(data, destination[..16], 0x243F6A8885A308D3);
}
