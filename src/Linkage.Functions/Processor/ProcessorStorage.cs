namespace Linkage.Functions.Processor;

/// <summary>
/// Where the processor and curator zones read and write (docs/formats/curated-dataset.md). None of these containers
/// ever holds an identifier: File 2s arrive keyed by the TTP token, and everything written is re-encrypted.
/// </summary>
public static class ProcessorStorage
{
    /// <summary>Health-data owners drop File 2s here as <c>&lt;dataset id&gt;/&lt;file&gt;.csv</c>.</summary>
    public const string File2Inbox = "processor-file2-inbox";
    public const string File2Quarantine = "processor-file2-quarantine";
    public const string File2Archive = "processor-file2-archive";

    /// <summary>Notes for data owners (e.g. a held delivery), under the dataset folder of their delivery.</summary>
    public const string ProviderReports = "processor-provider-reports";

    /// <summary>Curated dataset versions: <c>&lt;dataset&gt;/v&lt;NNNN&gt;/…</c>.</summary>
    public const string Curated = "tre-curated";

    public static string VersionFolder(string dataset, int version) => $"{dataset}/v{version:D4}";

    public static string DataFile(string dataset, int version, DateOnly date) => $"{VersionFolder(dataset, version)}/{dataset}_v{version:D4}_{date:yyyyMMdd}.csv";

    public static string RiskReport(string dataset, int version) => $"{VersionFolder(dataset, version)}/disclosure-risk.json";

    public static string Metadata(string dataset, int version) => $"{VersionFolder(dataset, version)}/metadata.json";

    public static string RejectReport(string dataset, int version) => $"{VersionFolder(dataset, version)}/rejected-rows.json";
}
