using System.Text;
using Linkage.Text;

namespace Linkage.File2;

/// <summary>Writes one CSV field as UTF-8 (RFC 4180: quoted, with doubled quotes, only when it holds , " CR or LF).</summary>
internal static class CsvField
{
    private static readonly System.Buffers.SearchValues<char> NeedsQuotes = System.Buffers.SearchValues.Create(",\"\r\n");

    /// <summary>
    /// As <see cref="Write"/>, for a free-text cell: one a spreadsheet would run as a formula gets the shared
    /// neutralising apostrophe first (inside the quotes when quoted), so a curated file is safe to open.
    /// </summary>
    public static int WriteText(ReadOnlySpan<char> value, Span<byte> destination)
    {
        if (!SpreadsheetFormula.StartsFormula(value))
        {
            return Write(value, destination);
        }

        if (value.IndexOfAny(NeedsQuotes) < 0)
        {
            destination[0] = (byte)SpreadsheetFormula.Neutraliser;
            return 1 + Write(value, destination[1..]);
        }

        // Quoted: write it, then open a gap after the opening quote for the apostrophe.
        int written = Write(value, destination[1..]);
        destination[0] = (byte)'"';
        destination[1] = (byte)SpreadsheetFormula.Neutraliser;
        return written + 1;
    }

    /// <summary>Returns the bytes written; the destination must hold 3 bytes per char, doubled, plus 2.</summary>
    public static int Write(ReadOnlySpan<char> value, Span<byte> destination)
    {
        // Fast path for short ASCII values that need no quoting (nearly every field): one narrowing pass.
        if (value.Length <= 32)
        {
            int i = 0;
            for (; i < value.Length; i++)
            {
                char c = value[i];
                if (c >= 0x80 || c == ',' || c == '"' || c == '\r' || c == '\n')
                {
                    break;
                }

                destination[i] = (byte)c;
            }

            if (i == value.Length)
            {
                return i;
            }
        }

        if (value.IndexOfAny(NeedsQuotes) < 0)
        {
            return Encoding.UTF8.GetBytes(value, destination);
        }

        int at = 0;
        destination[at++] = (byte)'"';
        foreach (var part in value.Split('"'))
        {
            if (part.Start.Value > 0)
            {
                destination[at++] = (byte)'"';
                destination[at++] = (byte)'"';
            }

            at += Encoding.UTF8.GetBytes(value[part], destination[at..]);
        }

        destination[at++] = (byte)'"';
        return at;
    }
}
