using System.Text;
using Linkage.Text;

namespace Linkage.Ttp;

/// <summary>
/// Builds one RFC 4180 CSV line at a time for the TTP's output files: fields with commas, quotes or line breaks are
/// quoted. Free text (<see cref="AddText"/>: names, addresses) that a spreadsheet would run as a formula (leading
/// <c>= + - @</c>, tab or CR) is neutralised with a leading apostrophe, as the File 1 checker's warning promises
/// providers; codes and tokens (<see cref="Add(ReadOnlySpan{char})"/>) are written exactly, since a token may start with '-'.
/// </summary>
public sealed class CsvLine
{
    private readonly StringBuilder _line = new(256);
    private bool _first = true;

    public CsvLine Add(ReadOnlySpan<char> value) => Append(value, neutraliseFormula: false);

    public CsvLine AddText(ReadOnlySpan<char> value) => Append(value, neutraliseFormula: true);

    private CsvLine Append(ReadOnlySpan<char> value, bool neutraliseFormula)
    {
        if (!_first)
        {
            _line.Append(',');
        }

        _first = false;
        bool formula = neutraliseFormula && SpreadsheetFormula.StartsFormula(value);
        bool quote = value.IndexOfAny(",\"\r\n") >= 0;
        if (quote)
        {
            _line.Append('"');
        }

        if (formula)
        {
            _line.Append(SpreadsheetFormula.Neutraliser);
        }

        foreach (char c in value)
        {
            if (c == '"')
            {
                _line.Append('"');
            }

            _line.Append(c);
        }

        if (quote)
        {
            _line.Append('"');
        }

        return this;
    }

    public CsvLine Add(bool value) => Add(value ? "1" : "0");

    public CsvLine Add(long value) => Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Writes the line with a LF ending and clears the builder for the next one.</summary>
    public void WriteTo(TextWriter writer)
    {
        _line.Append('\n');
        foreach (var chunk in _line.GetChunks())
        {
            writer.Write(chunk.Span);
        }

        _line.Clear();
        _first = true;
    }
}
