using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace Linkage.Keys;

/// <summary>
/// ISO/IEC 7816-4 padding of a short value into one AES block: the UTF-8 bytes, then 0x80, then zeros.
/// Values of at most 15 UTF-8 bytes fit; a valid UTF-8 value never contains 0xFF, which leaves blocks that start with
/// 0xFF free for other encodings (see <see cref="StudyIdTokenizer"/>).
/// </summary>
public static class BlockPadding
{
    public const int BlockBytes = 16;
    public const int MaxValueBytes = 15;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Pads <paramref name="value"/> into <paramref name="block"/>; false when it is empty or longer than 15 UTF-8 bytes.</summary>
    public static bool TryPad(ReadOnlySpan<char> value, Span<byte> block)
    {
        if (value.IsEmpty || value.Length > MaxValueBytes)
        {
            return false;
        }

        block = block[..BlockBytes];

        // Hot path: LSOA codes and short ids are ASCII, one byte per char.
        var written = 0;
        for (; written < value.Length; written++)
        {
            var c = value[written];
            if (c > 0x7F)
            {
                return TryPadUtf8(value, block);
            }

            block[written] = (byte)c;
        }

        block[written] = 0x80;
        block[(written + 1)..].Clear();
        return true;
    }

    /// <summary>
    /// <see cref="TryPad"/> for a value that is the first <paramref name="length"/> characters of a buffer of at least 16
    /// (e.g. a 22-character token gap): pads with two vector loads instead of a loop.
    /// </summary>
    public static bool TryPadFromBuffer(ReadOnlySpan<char> buffer, int length, Span<byte> block)
    {
        if (buffer.Length < BlockBytes || block.Length < BlockBytes || !Vector128.IsHardwareAccelerated
            || length is < 1 or > MaxValueBytes)
        {
            return TryPad(buffer[..Math.Min(length, buffer.Length)], block);
        }

        ref var chars = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(buffer));
        var low = Vector128.LoadUnsafe(ref chars);
        var high = Vector128.LoadUnsafe(ref chars, 8);
        var index = Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var size = Vector128.Create((byte)length);
        var inValue = Vector128.LessThan(index, size);
        var nonAscii = Vector128.Narrow(
            Vector128.GreaterThan(low, Vector128.Create((ushort)0x7F)),
            Vector128.GreaterThan(high, Vector128.Create((ushort)0x7F)));
        if ((nonAscii & inValue) != Vector128<byte>.Zero)
        {
            return TryPad(buffer[..length], block);
        }

        var padded = (Vector128.Narrow(low, high) & inValue) | (Vector128.Equals(index, size) & Vector128.Create((byte)0x80));
        padded.StoreUnsafe(ref MemoryMarshal.GetReference(block));
        return true;
    }

    private static bool TryPadUtf8(ReadOnlySpan<char> value, Span<byte> block)
    {
        int written;
        try
        {
            if (StrictUtf8.GetByteCount(value) > MaxValueBytes)
            {
                return false;
            }

            written = StrictUtf8.GetBytes(value, block);
        }
        catch (EncoderFallbackException)
        {
            return false;
        }

        block[written] = 0x80;
        block[(written + 1)..].Clear();
        return true;
    }

    public static void Pad(ReadOnlySpan<char> value, Span<byte> block)
    {
        if (!TryPad(value, block))
        {
            throw new TokenInputException(
                $"A value for a one-block token must be 1 to {MaxValueBytes} UTF-8 bytes of valid text.");
        }
    }

    /// <summary>The value bytes of a padded block; false when the padding is malformed.</summary>
    public static bool TryUnpad(ReadOnlySpan<byte> block, out ReadOnlySpan<byte> value)
    {
        block = block[..BlockBytes];
        var marker = block.LastIndexOfAnyExcept((byte)0);
        if (marker <= 0 || block[marker] != 0x80)
        {
            value = default;
            return false;
        }

        value = block[..marker];
        return true;
    }

    /// <summary>The text of a padded block; false when the padding or the UTF-8 is malformed.</summary>
    public static bool TryUnpadText(ReadOnlySpan<byte> block, out string text)
    {
        text = string.Empty;
        if (!TryUnpad(block, out var value) || value[0] == 0xFF)
        {
            return false;
        }

        try
        {
            text = StrictUtf8.GetString(value);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
