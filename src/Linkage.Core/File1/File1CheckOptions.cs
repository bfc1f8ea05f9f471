namespace Linkage.File1;

/// <summary>Configuration of one File 1 check.</summary>
public sealed record File1CheckOptions
{
    public const int DefaultMaxLinesPerFinding = 20;

    /// <summary>The study codes of the specification; providers join over time, so pass the configured list instead.</summary>
    public static IReadOnlyList<string> DefaultKnownStudyCodes { get; } =
    [
        "AIRWAVE", "ALSPAC", "BCS70", "BIB", "COMPARE", "ELSA", "EPIC", "EXCEED", "FENLAND", "GENSCOT", "GLAD",
        "INTERVAL", "MCS", "NICOLA", "NCDS58", "NEXTSTEP", "NIHRBIO_COPING", "NSHD46", "SABRE", "STRIDES", "TEDS",
        "TRACKC19", "TWINSUK", "UKBB", "UKHLS", "UKREACH",
    ];

    /// <summary>The file's name (not its path) for the naming rules; null skips them (e.g. a bare stream).</summary>
    public string? FileName { get; init; }

    /// <summary>Study codes allowed in a file name.</summary>
    public IReadOnlyCollection<string> KnownStudyCodes { get; init; } = DefaultKnownStudyCodes;

    /// <summary>The uploading provider's study code; when set, the file name must carry it.</summary>
    public string? ExpectedStudyCode { get; init; }

    /// <summary>The provider's first File 1: every participant must then be active (UKLLC_STATUS = 1).</summary>
    public bool IsFirstFile { get; init; }

    /// <summary>
    /// The study's highest accepted File 1 version, if any: a file with a lower version is refused
    /// (<c>file-version-superseded</c>), since applying it would roll permissions back. The same version may be re-sent.
    /// </summary>
    public int? LatestAcceptedVersion { get; init; }

    /// <summary>
    /// The name under which this file's version was already accepted, if it was: a different name (another date) is
    /// refused (<c>file-version-renamed</c>), since its outputs would sit beside the first ones and either could be
    /// taken as the version's permissions.
    /// </summary>
    public string? AcceptedNameOfThisVersion { get; init; }

    /// <summary>Line numbers listed per finding; <see cref="File1Finding.Count"/> still counts them all.</summary>
    public int MaxLinesPerFinding { get; init; } = DefaultMaxLinesPerFinding;

    /// <summary>Clock for "not in the future" rules.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
