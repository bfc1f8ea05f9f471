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

    public const string NationalOptOutBlob = "national-opt-out/national_opt_out.csv";

    public static IReadOnlyList<string> TtpContainers { get; } = [File1Inbox, File1Quarantine, File1Archive, ProviderReports, NhseOutbox, Registry, Config];

    public static string Stem(string study, int version, DateOnly date) =>
        $"{study}_{{0}}_v{version.ToString(CultureInfo.InvariantCulture)}_{date:yyyyMMdd}";

    public static string IdMapping(string study, int version, DateOnly date) => $"id-mapping/{study}/{string.Format(CultureInfo.InvariantCulture, Stem(study, version, date), "IDMAP")}.csv";

    public static string PermissionSnapshot(string study, int version, DateOnly date) => $"permissions/{study}/{string.Format(CultureInfo.InvariantCulture, Stem(study, version, date), "PERMS")}.snapshot";

    public static string NhsOutput(string study, int version, DateOnly date) => $"nhs-output/{study}/{string.Format(CultureInfo.InvariantCulture, Stem(study, version, date), "NHSOUT")}.csv";

    public static string Delta(string study, int version, DateOnly date) => $"delta/{study}/{string.Format(CultureInfo.InvariantCulture, Stem(study, version, date), "DELTA")}.csv";

    public static string LinkIndex(string study) => $"links/{study}.links";
}
