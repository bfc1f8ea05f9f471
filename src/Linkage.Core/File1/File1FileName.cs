using System.Globalization;

namespace Linkage.File1;

/// <summary>The File 1 naming rule: <c>&lt;STUDYCODE&gt;_FILE1_v&lt;N&gt;_&lt;YYYYMMDD&gt;.csv</c>.</summary>
public static class File1FileName
{
    private const string Marker = "_FILE1_v";

    /// <summary>
    /// Reads study code, version and date from a file name (a path's directory part is ignored). The study code
    /// is capitals, digits and underscores; the version a positive integer (leading zeros allowed); the date a real calendar date.
    /// </summary>
    public static bool TryParse(string? name, out string studyCode, out int version, out DateOnly date)
    {
        studyCode = "";
        version = 0;
        date = default;
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        var span = Path.GetFileName(name.AsSpan());
        if (!span.EndsWith(".csv", StringComparison.Ordinal))
        {
            return false;
        }

        span = span[..^4];
        int marker = span.LastIndexOf(Marker, StringComparison.Ordinal);
        if (marker <= 0)
        {
            return false;
        }

        var study = span[..marker];
        foreach (char c in study)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        var rest = span[(marker + Marker.Length)..];
        int underscore = rest.IndexOf('_');
        if (underscore <= 0 || underscore > 9 || !NhsNumber.IsAllDigits(rest[..underscore])
            || int.Parse(rest[..underscore], CultureInfo.InvariantCulture) < 1)
        {
            return false;
        }

        var dateText = rest[(underscore + 1)..];
        if (dateText.Length != 8 || !NhsNumber.IsAllDigits(dateText)
            || !DateOnly.TryParseExact(dateText, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return false;
        }

        studyCode = new string(study);
        version = int.Parse(rest[..underscore], CultureInfo.InvariantCulture);
        return true;
    }
}
