using System.Globalization;

namespace Linkage.Synth;

/// <summary>Date formats used in the synthetic files.</summary>
public static class DateText
{
    /// <summary>File 1 form: dd/mm/yyyy.</summary>
    public static string Dmy(DateOnly date) => date.ToString("dd'/'MM'/'yyyy", CultureInfo.InvariantCulture);

    /// <summary>File name form: yyyymmdd.</summary>
    public static string Compact(DateOnly date) => date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
