using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Linkage.Keys;

/// <summary>
/// Text form of a 16-byte token: base64url (RFC 4648 §5) without padding, always exactly 22 characters.
/// Allocation-free span overloads for the hot path; decoding is strict (canonical form only).
/// </summary>
/// <remarks>
/// Specialised for exactly 16 bytes: the general-purpose <c>Base64Url</c> costs ~40 ns per 16-byte token on the
/// benchmark machine, which alone would halve pipeline throughput. Where the CPU has SSSE3, encoding and decoding use
/// W. Muła's vectorised base64 (with the base64url alphabet): for all 22 characters of the UTF-16 form (the hot path's),
/// in two 128-bit passes, and for the first 12 bytes / 16 characters of the UTF-8 form, a table doing the rest. CPUs
/// without SSSE3 use the table throughout (<see cref="EncodeScalar"/>, <see cref="TryDecodeScalar"/>, which the tests
/// also cross-check against the vector path).
/// Both are cross-checked against <c>System.Buffers.Text.Base64Url</c> in the tests.
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Encode(ReadOnlySpan<byte> block, Span<char> destination)
    {
        block = block[..TokenBytes];
        destination = destination[..TokenChars];
        if (!Ssse3.IsSupported)
        {
            EncodeScalar(block, destination);
            return;
        }

        // All 22 characters in vector registers: bytes 0–11 give characters 0–15, bytes 12–15 (with two zero bytes)
        // characters 16–23, of which 22 and 23 are not part of the token. Characters 14–21 are stored last, over 14–15
        // again, so nothing past the 22nd character is written.
        var input = Vector128.Create(block);
        var first = EncodeLanes(input, Vector128.Create((byte)1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10));
        var last = EncodeLanes(input, Vector128.Create((byte)13, 12, 14, 13, 0x80, 15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80));
        var tail = Ssse3.AlignRight(last, first, 14);
        ref var chars = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(destination));
        var (low, high) = Vector128.Widen(first);
        low.StoreUnsafe(ref chars);
        high.StoreUnsafe(ref chars, 8);
        Vector128.WidenLower(tail).StoreUnsafe(ref chars, 14);
    }

    /// <summary>The table encoder: the reference for the vector path, and the path on CPUs without SSSE3.</summary>
    internal static void EncodeScalar(ReadOnlySpan<byte> block, Span<char> destination)
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

    /// <summary>The 16 base64url characters (as ASCII bytes) of the block's first 12 bytes, in SSSE3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> EncodeFirst12(ReadOnlySpan<byte> block) =>
        EncodeLanes(Vector128.Create(block), Vector128.Create((byte)1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10));

    /// <summary>
    /// Four groups of 3 bytes → 16 base64url characters (ASCII bytes), in SSSE3. <paramref name="lanes"/> picks, for each
    /// 32-bit lane, the bytes (b1, b0, b2, b1) of its group from <paramref name="input"/> (0x80 for a zero byte).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> EncodeLanes(Vector128<byte> input, Vector128<byte> lanes)
    {
        var grouped = Ssse3.Shuffle(input, lanes).AsUInt32();
        var t1 = Sse2.MultiplyHigh(Sse2.And(grouped, Vector128.Create(0x0fc0fc00u)).AsUInt16(), Vector128.Create(0x04000040u).AsUInt16());
        var t3 = Sse2.MultiplyLow(Sse2.And(grouped, Vector128.Create(0x003f03f0u)).AsUInt16(), Vector128.Create(0x01000010u).AsUInt16());
        var indices = Sse2.Or(t1, t3).AsByte();

        // Map 0–63 to the alphabet by adding a per-range offset chosen with a 16-entry table:
        // 0–25 → 'A'.., 26–51 → 'a'.., 52–61 → '0'.., 62 → '-', 63 → '_' (offsets: 'a'-26, ten × '0'-52, '-'-62, '_'-63, 'A').
        var range = Sse2.SubtractSaturate(indices, Vector128.Create((byte)51));
        var belowA = Sse2.CompareGreaterThan(Vector128.Create((sbyte)26), indices.AsSByte()).AsByte();
        range = Sse2.Or(range, Sse2.And(belowA, Vector128.Create((byte)13)));
        var offsets = Vector128.Create((sbyte)71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 65, 0, 0).AsByte();
        return Sse2.Add(Ssse3.Shuffle(offsets, range), indices);
    }

    /// <summary>UTF-8 variant of <see cref="Encode(ReadOnlySpan{byte}, Span{char})"/> for byte-oriented writers.</summary>
    public static void EncodeUtf8(ReadOnlySpan<byte> block, Span<byte> destination)
    {
        block = block[..TokenBytes];
        destination = destination[..TokenChars];
        var alphabet = Alphabet;
        var start = 0;
        if (Ssse3.IsSupported)
        {
            EncodeFirst12(block).CopyTo(destination);
            start = 12;
        }

        for (int i = start, o = start / 3 * 4; i < 15; i += 3, o += 4)
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryDecode(ReadOnlySpan<char> token, Span<byte> block)
    {
        if (token.Length != TokenChars || block.Length < TokenBytes)
        {
            return false;
        }

        if (!Ssse3.IsSupported)
        {
            return TryDecodeScalar(token, block);
        }

        // All 22 characters in vector registers: 0–15 as one vector, 16–21 (taken from a load of 14–21, so nothing past
        // the token is read) padded with two 'A's as a second. The second decodes to bytes 12–15, then the byte that
        // holds the last character's low 4 bits, which a canonical token leaves zero.
        ref var chars = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(token));
        var c0 = Vector128.LoadUnsafe(ref chars);
        var c8 = Vector128.LoadUnsafe(ref chars, 8);
        var c14 = Vector128.LoadUnsafe(ref chars, 14);
        if (((c0 | c8 | c14) & Vector128.Create((ushort)0xFF80)) != Vector128<ushort>.Zero)
        {
            return false;
        }

        var headChars = Vector128.Narrow(c0, c8);
        var tailChars = Ssse3.Shuffle(Vector128.Narrow(c14, c14), Vector128.Create((byte)2, 3, 4, 5, 6, 7, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80))
            | Vector128.Create((byte)0, 0, 0, 0, 0, 0, (byte)'A', (byte)'A', (byte)'A', (byte)'A', (byte)'A', (byte)'A', (byte)'A', (byte)'A', (byte)'A', (byte)'A');
        Vector128<byte> head, tail;
        if (Avx2.IsSupported && !ForceSsse3)
        {
            // Both halves in one 256-bit pass (AVX2 works lane by lane, which is exactly two 128-bit passes side by side).
            if (!TryValues(Vector256.Create(headChars, tailChars), out var values))
            {
                return false;
            }

            var packed = Pack(values);
            head = packed.GetLower();
            tail = packed.GetUpper();
        }
        else
        {
            if (!TryValues(headChars, out var headValues) || !TryValues(tailChars, out var tailValues))
            {
                return false;
            }

            head = Pack(headValues);
            tail = Pack(tailValues);
        }

        if (tail.GetElement(4) != 0)
        {
            return false;
        }

        (head | Sse2.ShiftLeftLogical128BitLane(tail, 12)).StoreUnsafe(ref MemoryMarshal.GetReference(block));
        return true;
    }

    /// <summary>Tests only: take the 128-bit SSSE3 decoding path even where AVX2 is available (both are cross-checked).</summary>
    internal static bool ForceSsse3 { get; set; }

    /// <summary>The 256-bit form of <see cref="TryValues(Vector128{byte}, out Vector128{byte})"/> (AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryValues(Vector256<byte> ascii, out Vector256<byte> values)
    {
        var c = ascii.AsSByte();
        var upper = Between(c, 'A', 'Z');
        var lower = Between(c, 'a', 'z');
        var digit = Between(c, '0', '9');
        var dash = Avx2.CompareEqual(c, Vector256.Create((sbyte)'-'));
        var underscore = Avx2.CompareEqual(c, Vector256.Create((sbyte)'_'));
        var offset = (upper & Vector256.Create((sbyte)-'A')) | (lower & Vector256.Create((sbyte)(26 - 'a')))
            | (digit & Vector256.Create((sbyte)(52 - '0'))) | (dash & Vector256.Create((sbyte)(62 - '-')))
            | (underscore & Vector256.Create((sbyte)(63 - '_')));
        values = Avx2.Add(c, offset).AsByte();
        return Avx2.MoveMask((upper | lower | digit | dash | underscore).AsByte()) == -1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<sbyte> Between(Vector256<sbyte> c, char first, char last) =>
            Avx2.CompareGreaterThan(c, Vector256.Create((sbyte)(first - 1))) & Avx2.CompareGreaterThan(Vector256.Create((sbyte)(last + 1)), c);
    }

    /// <summary>The 256-bit form of <see cref="Pack(Vector128{byte})"/>: each 128-bit lane packed alone (AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Pack(Vector256<byte> values)
    {
        var pairs = Avx2.MultiplyAddAdjacent(values, Vector256.Create(0x01400140u).AsSByte());
        var lanes = Avx2.MultiplyAddAdjacent(pairs, Vector256.Create(0x00011000u).AsInt16());
        return Avx2.Shuffle(lanes.AsByte(), Vector256.Create((byte)2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0x80, 0x80, 0x80, 0x80, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0x80, 0x80, 0x80, 0x80));
    }

    /// <summary>The table decoder: the reference for the vector path, and the path on CPUs without SSSE3.</summary>
    internal static bool TryDecodeScalar(ReadOnlySpan<char> token, Span<byte> block)
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

    /// <summary>16 base64url characters (ASCII bytes) → their 6-bit values; false when any is outside the alphabet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryValues(Vector128<byte> ascii, out Vector128<byte> values)
    {
        var c = ascii.AsSByte();
        var upper = Between(c, 'A', 'Z');
        var lower = Between(c, 'a', 'z');
        var digit = Between(c, '0', '9');
        var dash = Sse2.CompareEqual(c, Vector128.Create((sbyte)'-'));
        var underscore = Sse2.CompareEqual(c, Vector128.Create((sbyte)'_'));
        var offset = (upper & Vector128.Create((sbyte)-'A')) | (lower & Vector128.Create((sbyte)(26 - 'a')))
            | (digit & Vector128.Create((sbyte)(52 - '0'))) | (dash & Vector128.Create((sbyte)(62 - '-')))
            | (underscore & Vector128.Create((sbyte)(63 - '_')));
        values = Sse2.Add(c, offset).AsByte();
        return Sse2.MoveMask((upper | lower | digit | dash | underscore).AsByte()) == 0xFFFF;

        [MethodImpl(MethodImplOptions.AggressiveInlining)] // else the JIT calls it, passing vectors through memory
        static Vector128<sbyte> Between(Vector128<sbyte> c, char first, char last) =>
            Sse2.CompareGreaterThan(c, Vector128.Create((sbyte)(first - 1))) & Sse2.CompareLessThan(c, Vector128.Create((sbyte)(last + 1)));
    }

    /// <summary>16 six-bit values → 12 bytes (W. Muła's packing), then 4 zero bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Pack(Vector128<byte> values)
    {
        // Pairs of 6-bit values → 12 bits, pairs of those → 24 bits per lane, then the 3 bytes of each lane in order.
        var pairs = Ssse3.MultiplyAddAdjacent(values, Vector128.Create(0x01400140u).AsSByte());
        var lanes = Sse2.MultiplyAddAdjacent(pairs, Vector128.Create(0x00011000u).AsInt16());
        return Ssse3.Shuffle(lanes.AsByte(), Vector128.Create((byte)2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0x80, 0x80, 0x80, 0x80));
    }

    /// <summary>
    /// Decodes 16 base64url characters (ASCII bytes) into the block's first 12 bytes with SSSE3 (W. Muła's packing);
    /// false when any is outside the alphabet. Writes 16 bytes; the caller fills bytes 12–15.
    /// </summary>
    private static bool TryDecodeFirst16(Vector128<byte> ascii, Span<byte> block)
    {
        if (!TryValues(ascii, out var values))
        {
            return false;
        }

        Pack(values).StoreUnsafe(ref MemoryMarshal.GetReference(block));
        return true;
    }

    /// <summary>UTF-8 variant of <see cref="TryDecode(ReadOnlySpan{char}, Span{byte})"/>.</summary>
    public static bool TryDecodeUtf8(ReadOnlySpan<byte> token, Span<byte> block)
    {
        if (token.Length != TokenChars || block.Length < TokenBytes)
        {
            return false;
        }

        var start = 0;
        var bad = 0;
        if (Ssse3.IsSupported)
        {
            if (!TryDecodeFirst16(Vector128.Create(token[..16]), block))
            {
                return false;
            }

            start = 16;
        }

        for (int i = start, o = start / 4 * 3; i < 20; i += 4, o += 3)
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
