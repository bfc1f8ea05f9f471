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
