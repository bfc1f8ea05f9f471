using System.Text.Json;

namespace Linkage.File2;

/// <summary>How often a dataset's owner sends a new File 2, which starts its refresh workflow.</summary>
public enum RefreshCadence
{
    /// <summary>A refresh a year, opened on the first day of <see cref="DatasetRefreshSchedule.ExpectedMonth"/>.</summary>
    Annual,

    /// <summary>No scheduled refresh (e.g. a reference table revised now and then); an operator may still start one.</summary>
    None,
}

/// <summary>
/// A dataset's refresh schedule (spec block <c>refresh</c>): the cadence, the month its new File 2 is expected, and how
/// many days after that month opens the refresh is reported late (it keeps waiting).
/// </summary>
public sealed record DatasetRefreshSchedule(RefreshCadence Cadence, int ExpectedMonth, int LateAfterDays)
{
    /// <summary>The default when a spec has no <c>refresh</c> block: annual, expected in January, late after 30 days.</summary>
    public static DatasetRefreshSchedule Default { get; } = new(RefreshCadence.Annual, 1, 30);

    /// <summary>When the refresh of <paramref name="year"/> opens: the first day of the expected month, UTC.</summary>
    public DateTimeOffset OpensAt(int year) => new(year, ExpectedMonth, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>When the refresh of <paramref name="year"/> is reported late.</summary>
    public DateTimeOffset LateAt(int year) => OpensAt(year).AddDays(LateAfterDays);
}

/// <summary>Reads a spec's optional <c>refresh</c> block (docs/formats/dataset-spec.md).</summary>
internal static class RefreshBlock
{
    private static readonly string[] Props = ["cadence", "expectedMonth", "lateAfterDays"];

    private static readonly Dictionary<string, RefreshCadence> Cadences = new(StringComparer.Ordinal)
    {
        ["annual"] = RefreshCadence.Annual,
        ["none"] = RefreshCadence.None,
    };

    public static DatasetRefreshSchedule Build(JsonElement root, Problems problems)
    {
        const string rp = "$.refresh";
        if (!root.TryGetProperty("refresh", out var r))
        {
            return DatasetRefreshSchedule.Default;
        }

        if (r.ValueKind != JsonValueKind.Object)
        {
            problems.Add(rp, "refresh must be an object.", "Write \"refresh\": { \"cadence\": \"annual\", \"expectedMonth\": 4 } or { \"cadence\": \"none\" }.");
            return DatasetRefreshSchedule.Default;
        }

        problems.UnknownProperties(r, rp, Props);
        var cadence = problems.Choice(r, rp, "cadence", Cadences, required: true) ?? RefreshCadence.Annual;
        int? month = problems.Int32(r, rp, "expectedMonth", required: cadence == RefreshCadence.Annual);
        if (month is < 1 or > 12)
        {
            problems.Add($"{rp}.expectedMonth", $"expectedMonth is {month}; a month is 1 to 12.", "Give the month (1 = January) in which the owner usually delivers the new File 2.");
        }

        int? late = problems.Int32(r, rp, "lateAfterDays", required: false);
        if (late is < 1 or > 366)
        {
            problems.Add($"{rp}.lateAfterDays", $"lateAfterDays is {late}; it must be 1 to 366.", "Give the days after the expected month opens when a missing File 2 is reported late (default 30).");
        }

        return new DatasetRefreshSchedule(cadence, month is >= 1 and <= 12 ? month.Value : 1, late is >= 1 and <= 366 ? late.Value : 30);
    }
}
