using Linkage.Ttp;

namespace Linkage.Functions.Ttp;

/// <summary>
/// Where the TTP zone reads and writes (docs/formats/ttp-outputs.md). Containers starting <c>ttp-</c> may hold
/// identifiers and are granted to the TTP's identity only; <c>processor-from-ttp</c> is the processor's inbox from the
/// TTP and never holds an identifier.
/// </summary>
public static class TtpStorage
{
    public const string File1Inbox = "ttp-file1-inbox";
    public const string File1Quarantine = "ttp-file1-quarantine";
    public const string File1Archive = "ttp-file1-archive";
    public const string ProviderReports = "ttp-provider-reports";
    public const string NhseOutbox = "ttp-outbox-nhse";
    public const string Registry = "ttp-registry";
    public const string Config = "ttp-config";
    public const string ProcessorInbox = TtpProcessorContract.Container;

    /// <summary>One lease blob per study (no data): one File 1 of a study is processed at a time (<see cref="StudyLock"/>).</summary>
    public const string Locks = "ttp-locks";

    public const string NationalOptOutBlob = "national-opt-out/national_opt_out.csv";

    public static IReadOnlyList<string> TtpContainers { get; } = [File1Inbox, File1Quarantine, File1Archive, ProviderReports, NhseOutbox, Registry, Config, Locks];

    /// <summary>In <see cref="ProcessorInbox"/>; the name is part of the TTP→processor contract.</summary>
    public static string IdMapping(string study, int version, DateOnly date, int revision = 0) => TtpProcessorContract.IdMapping(study, version, date, revision);

    /// <summary>In <see cref="ProcessorInbox"/>; the name is part of the TTP→processor contract.</summary>
    public static string PermissionSnapshot(string study, int version, DateOnly date, int revision = 0) => TtpProcessorContract.PermissionSnapshot(study, version, date, revision);

    /// <summary>In <see cref="Registry"/>: the TTP's own copy of the snapshot, the baseline of the next delta (never read back from the processor's side).</summary>
    public static string Baseline(string study, int version, DateOnly date, int revision = 0) => $"baselines/{study}/{Stem(study, "PERMS", version, date, revision)}.snapshot";

    public static string NhsOutput(string study, int version, DateOnly date, int revision = 0) => $"nhs-output/{study}/{Stem(study, "NHSOUT", version, date, revision)}.csv";

    public static string Delta(string study, int version, DateOnly date, int revision = 0) => $"delta/{study}/{Stem(study, "DELTA", version, date, revision)}.csv";

    private static string Stem(string study, string kind, int version, DateOnly date, int revision) =>
        TtpProcessorContract.Stem(study, kind, version, date) + TtpProcessorContract.RevisionSuffix(revision);

    /// <summary>In <see cref="NhseOutbox"/>: what of the study is committed for NHS England (the NHS Output and delta in force).</summary>
    public static string NhseManifest(string study) => $"manifests/{study}.manifest.json";

    public static string LinkIndex(string study) => $"links/{study}.links";

    /// <summary>In <see cref="Registry"/>: a File 1's link index, staged until its publish step makes it the study's <see cref="LinkIndex"/>.</summary>
    public static string StagedLinkIndex(string study, int version, DateOnly date, int revision = 0) => $"links-staged/{study}/{Stem(study, "LINKS", version, date, revision)}.links";
}
