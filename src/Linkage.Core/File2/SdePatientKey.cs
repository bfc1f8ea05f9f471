using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>
/// London SDE's unique patient key: an opaque pseudonymous key of 1–15 ASCII letters, digits, '-' or '_'. Curation pads
/// it into one AES block (<see cref="BlockPadding"/>, as a geography code) and encrypts that with the TRE id cipher, so
/// the output holds a token, never the key.
/// </summary>
public static class SdePatientKey
{
    public const int MaxChars = BlockPadding.MaxValueBytes;

    public static bool IsValid(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > MaxChars)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The key's padded block, ready for the id cipher; false when it is not a valid patient key.</summary>
    public static bool TryPad(ReadOnlySpan<char> value, out TokenBytes block)
    {
        Span<byte> bytes = stackalloc byte[BlockPadding.BlockBytes];
        if (!IsValid(value) || !BlockPadding.TryPad(value, bytes))
        {
            block = default;
            return false;
        }

        block = TokenBytes.FromBytes(bytes);
        return true;
    }
}
