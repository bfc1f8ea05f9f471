namespace Linkage.Keys;

/// <summary>
/// Text form of a 16-byte token: base64url (RFC 4648 §5) without padding, always exactly 22 characters.
/// Allocation-free span overloads for the hot path; decoding is strict (canonical form only).
/// </summary>
/// <remarks>
/// Hand-unrolled for exactly 16 bytes: the general-purpose <c>Base64Url</c> costs ~40 ns per 16-byte token on the
/// benchmark machine, which alone would halve pipeline throughput; this costs a few ns. Cross-checked against
/// <c>System.Buffers.Text.Base64Url</c> in the tests.
/// </remarks>
public static class TokenCodec
{
    public const int TokenChars = 22;
    public const int TokenBytes = 16;

    private static ReadOnlySpan<byte> Alphabet => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8;

    /// <summary>Value of each ASCII character in the base64url alphabet; -1 for anything else.</summary>
    private static ReadOnlySpan<sbyte> Values =>
    [
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
        52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
        -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
        -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
        41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    ];

    /// <summary>Writes the 22-character token of <paramref name="block"/> (16 bytes) into <paramref name="destination"/>.</summary>
    public static void Encode(ReadOnlySpan<byte> block, Span<char> destination)
    {
        block = block[..TokenBytes];
        destination = destination[..TokenChars];
        var alphabet = Alphabet;
        for (int i = 0, o = 0; i < 15; i += 3, o += 4)
        {
            var v = (block[i] << 16) | (block[i + 1] << 8) | block[i + 2];
            destination[o] = (char)alphabet[v >> 18];
            destination[o + 1] = (char)alphabet[(v >> 12) & 63];
            destination[o + 2] = (char)alphabet[(v >> 6) & 63];
            destination[o + 3] = (char)alphabet[v & 63];
        }

        destination[20] = (char)alphabet[block[15] >> 2];
        destination[21] = (char)alphabet[(block[15] & 3) << 4];
    }

    /// <summary>UTF-8 variant of <see cref="Encode(ReadOnlySpan{byte}, Span{char})"/> for byte-oriented writers.</summary>
    public static void EncodeUtf8(ReadOnlySpan<byte> block, Span<byte> destination)
    {
        block = block[..TokenBytes];
        destination = destination[..TokenChars];
        var alphabet = Alphabet;
        for (int i = 0, o = 0; i < 15; i += 3, o += 4)
        {
            var v = (block[i] << 16) | (block[i + 1] << 8) | block[i + 2];
            destination[o] = alphabet[v >> 18];
            destination[o + 1] = alphabet[(v >> 12) & 63];
            destination[o + 2] = alphabet[(v >> 6) & 63];
            destination[o + 3] = alphabet[v & 63];
        }

        destination[20] = alphabet[block[15] >> 2];
        destination[21] = alphabet[(block[15] & 3) << 4];
    }

    public static string Encode(ReadOnlySpan<byte> block)
    {
        Span<char> chars = stackalloc char[TokenChars];
        Encode(block, chars);
        return new string(chars);
    }

    /// <summary>
    /// Decodes a 22-character token into 16 bytes; false when it is not a canonical token (wrong length, a character
    /// outside the base64url alphabet, padding, whitespace, or non-zero trailing bits).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> token, Span<byte> block)
    {
        if (token.Length != TokenChars || block.Length < TokenBytes)
        {
            return false;
        }

        var bad = 0;
        for (int i = 0, o = 0; i < 20; i += 4, o += 3)
        {
            int a = Value(token[i]), b = Value(token[i + 1]), c = Value(token[i + 2]), d = Value(token[i + 3]);
            bad |= a | b | c | d;
            var v = (a << 18) | (b << 12) | (c << 6) | d;
            block[o] = (byte)(v >> 16);
            block[o + 1] = (byte)(v >> 8);
            block[o + 2] = (byte)v;
        }

        int y = Value(token[20]), z = Value(token[21]);
        bad |= y | z | (z & 15) * -1; // 128 bits leave the last character's low 4 bits zero
        block[15] = (byte)((y << 2) | (z >> 4));
        return bad >= 0;

        static int Value(char ch) => ch < 128 ? Values[ch] : -1;
    }

    /// <summary>UTF-8 variant of <see cref="TryDecode(ReadOnlySpan{char}, Span{byte})"/>.</summary>
    public static bool TryDecodeUtf8(ReadOnlySpan<byte> token, Span<byte> block)
    {
        if (token.Length != TokenChars || block.Length < TokenBytes)
        {
            return false;
        }

        var bad = 0;
        for (int i = 0, o = 0; i < 20; i += 4, o += 3)
        {
            int a = Value(token[i]), b = Value(token[i + 1]), c = Value(token[i + 2]), d = Value(token[i + 3]);
            bad |= a | b | c | d;
            var v = (a << 18) | (b << 12) | (c << 6) | d;
            block[o] = (byte)(v >> 16);
            block[o + 1] = (byte)(v >> 8);
            block[o + 2] = (byte)v;
        }

        int y = Value(token[20]), z = Value(token[21]);
        bad |= y | z | (z & 15) * -1;
        block[15] = (byte)((y << 2) | (z >> 4));
        return bad >= 0;

        static int Value(byte ch) => ch < 128 ? Values[ch] : -1;
    }

    public static void Decode(ReadOnlySpan<char> token, Span<byte> block)
    {
        if (!TryDecode(token, block))
        {
            throw new InvalidTokenException($"Not a token: expected {TokenChars} base64url characters.");
        }
    }
}
