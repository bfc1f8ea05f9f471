namespace Linkage.Text;

/// <summary>
/// The one rule for CSV cells a spreadsheet would run as a formula: text starting with <c>= + - @</c>, tab or CR.
/// Writers neutralise such a cell by prefixing an apostrophe (spreadsheets show the text and run nothing). Used by the
/// TTP's NHS Output (names, addresses), the File 1 checker's warning and the curated File 2 text columns.
/// </summary>
public static class SpreadsheetFormula
{
    /// <summary>The character written before a cell that would otherwise start a formula.</summary>
    public const char Neutraliser = '\'';

    public static bool StartsFormula(ReadOnlySpan<char> value) =>
        !value.IsEmpty && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r';
}
