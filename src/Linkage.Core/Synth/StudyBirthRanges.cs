namespace Linkage.Synth;

/// <summary>Plausible birth-date ranges for the cohorts we know; other (new) studies get a general adult population.</summary>
public static class StudyBirthRanges
{
    private static readonly Dictionary<string, (DateOnly From, DateOnly To)> Known = new(StringComparer.Ordinal)
    {
        ["ALSPAC"] = (new(1991, 4, 1), new(1992, 12, 31)),
        ["BCS70"] = (new(1970, 4, 5), new(1970, 4, 11)),
        ["NCDS58"] = (new(1958, 3, 3), new(1958, 3, 9)),
        ["NSHD46"] = (new(1946, 3, 3), new(1946, 3, 9)),
        ["MCS"] = (new(2000, 9, 1), new(2002, 1, 11)),
        ["NEXTSTEP"] = (new(1989, 9, 1), new(1990, 8, 31)),
        ["TEDS"] = (new(1994, 1, 1), new(1996, 12, 31)),
        ["BIB"] = (new(2007, 3, 1), new(2011, 12, 31)),
        ["ELSA"] = (new(1920, 1, 1), new(1972, 12, 31)),
        ["UKBB"] = (new(1936, 1, 1), new(1970, 12, 31)),
    };

    private static readonly (DateOnly From, DateOnly To) General = (new(1925, 1, 1), new(2006, 12, 31));

    public static (DateOnly From, DateOnly To) For(string studyCode) =>
        Known.TryGetValue(studyCode, out var range) ? range : General;
}
