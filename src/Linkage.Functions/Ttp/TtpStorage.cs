using System.Globalization;

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
    public const string ProcessorInbox = "processor-from-ttp";

    /// <summary>One lease blob per study (no data): one File 1 of a study is processed at a time (<see cref="StudyLock"/>).</summary>
    public const string Locks = "ttp-locks";

    public const string NationalOptOutBlob = "national-opt-out/national_opt_out.csv";

    public static IReadOnlyList<string> TtpContainers { get; } = [File1Inbox, File1Quarantine, File1Archive, ProviderReports, NhseOutbox, Registry, Config, Locks];

    /// <summary><c>&lt;STUDY&gt;_&lt;KIND&gt;_v&lt;N&gt;_&lt;YYYYMMDD&gt;</c>, the File 1's own naming with its kind replaced.</summary>
    public static string Stem(string study, string kind, int version, DateOnly date) =>
        string.Create(CultureInfo.InvariantCulture, $"{study}_{kind}_v{version}_{date:yyyyMMdd}");

    public static string IdMapping(string study, int version, DateOnly date) => $"id-mapping/{study}/{Stem(study, "IDMAP", version, date)}.csv";

    public static string PermissionSnapshot(string study, int version, DateOnly date) => $"permissions/{study}/{Stem(study, "PERMS", version, date)}.snapshot";

    public static string NhsOutput(string study, int version, DateOnly date) => $"nhs-output/{study}/{Stem(study, "NHSOUT", version, date)}.csv";

    public static string Delta(string study, int version, DateOnly date) => $"delta/{study}/{Stem(study, "DELTA", version, date)}.csv";

    public static string LinkIndex(string study) => $"links/{study}.links";
}
