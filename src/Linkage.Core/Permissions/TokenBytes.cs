using System.Buffers.Binary;
using Linkage.Keys;

namespace Linkage.Permissions;

/// <summary>
/// The 16 raw bytes behind a 22-character URL-safe base64 token (no padding), held as two big-endian 64-bit halves so
/// that comparing (High, Low) as unsigned numbers orders tokens exactly like their bytes.
/// </summary>
public readonly record struct TokenBytes(ulong High, ulong Low) : IComparable<TokenBytes>
{
    public const int TokenChars = 22;

    public int CompareTo(TokenBytes other)
    {
        int c = High.CompareTo(other.High);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }

    /// <summary>Decodes a 22-char token; false when the length, alphabet or trailing bits are wrong.</summary>
    public static bool TryParse(ReadOnlySpan<char> token, out TokenBytes value)
    {
        // An inline 16-byte buffer rather than stackalloc: this runs once a row on the File 2 hot path, and a stackalloc
        // here (its zeroing and stack-cookie check, no inlining) cost more than the decode itself.
        var bytes = default(Block16);
        if (token.Length != TokenChars || !TokenCodec.TryDecode(token, bytes))
        {
            value = default;
            return false;
        }

        value = new TokenBytes(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(((ReadOnlySpan<byte>)bytes)[8..]));
        return true;
    }

    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct Block16
    {
        private byte _first;
    }

    public static TokenBytes Parse(ReadOnlySpan<char> token) =>
        TryParse(token, out var value) ? value : throw new FormatException("Not a 22-character URL-safe base64 token.");

    public static TokenBytes FromBytes(ReadOnlySpan<byte> bytes16)
    {
        if (bytes16.Length != 16)
        {
            throw new ArgumentException("A token is 16 bytes.", nameof(bytes16));
        }

        return new TokenBytes(BinaryPrimitives.ReadUInt64BigEndian(bytes16), BinaryPrimitives.ReadUInt64BigEndian(bytes16[8..]));
    }

    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    /// <summary>The 22-char URL-safe base64 form.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteBytes(bytes);
        return TokenCodec.Encode(bytes);
    }
}
