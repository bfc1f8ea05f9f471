using System.Text.RegularExpressions;
using Linkage.Functions.Processor;

namespace Linkage.Functions.Provisioning;

/// <summary>Settings of provisioning (section <c>Provisioning</c>).</summary>
public sealed class ProvisioningOptions
{
    public const string SectionName = "Provisioning";

    /// <summary>Days an ended project's files are kept (for the audit trail of what it held) before they are deleted.</summary>
    public int RetainDays { get; set; } = 30;

    /// <summary>Datasets every project receives (seed 000: the LSOA11 mappings are "automatically provisioned").</summary>
    public string[] AlwaysProvisioned { get; set; } = ["nhse_lsoa11_dataset_mapping"];
}

/// <summary>The body of <c>POST /api/projects</c>.</summary>
public sealed record CreateProjectRequest(string? Id, string? Title, IReadOnlyList<string>? Studies, IReadOnlyList<string>? Datasets, DateOnly? EndDate);

/// <summary>The body of <c>PUT /api/projects/{id}/studies</c> and <c>…/datasets</c>.</summary>
public sealed record ListRequest(IReadOnlyList<string>? Items);

/// <summary>Checks what project admins send; every problem says what to send instead.</summary>
public static partial class ProjectRequestRules
{
    public static bool IsProjectId(string? id) => id is not null && ProjectIdPattern().IsMatch(id);

    public static string? CheckId(string? id) =>
        IsProjectId(id) ? null : "id must look like LLC_0001 (LLC_ and four digits).";

    public static string? CheckTitle(string? title) =>
        string.IsNullOrWhiteSpace(title) || title.Length > 200 ? "title must be 1 to 200 characters." : null;

    public static string? CheckStudies(IReadOnlyList<string>? studies) =>
        studies is not { Count: > 0 and <= 100 } ? "studies must list 1 to 100 approved study codes, e.g. [\"ALSPAC\", \"UKHLS\"]."
        : studies.FirstOrDefault(s => !StudyPattern().IsMatch(s ?? "")) is { } bad ? $"'{bad}' is not a study code (capital letters, digits and _, 2 to 20 characters)."
        : null;

    public static string? CheckDatasets(IReadOnlyList<string>? datasets, DatasetSpecs specs) =>
        datasets is null ? "datasets must list the approved dataset ids (an empty list is allowed: the LSOA11 mappings are always provisioned)."
        : datasets.FirstOrDefault(d => !specs.TryGet(d ?? "", out _)) is { } bad ? $"'{bad}' is not a catalogued dataset; use one of {string.Join(", ", specs.All.Select(s => s.DatasetId).Order(StringComparer.Ordinal))}."
        : datasets.FirstOrDefault(d => specs.TryGet(d, out var s) && s.Kind == Linkage.File2.DatasetKind.Participant && s.PermissionChecks == Linkage.File2.PermissionChecks.None) is { } foreign
            ? $"'{foreign}' is keyed by another organisation's patient key, not by UK LLC participants, so a UK LLC project's cohort and permissions cannot be applied to it; it is not provisioned to projects."
        : null;

    public static string? CheckEndDate(DateOnly? endDate, DateOnly today) =>
        endDate is not { } d ? "endDate is required (yyyy-MM-dd)." : d <= today ? $"endDate must be after today ({today:yyyy-MM-dd})." : null;

    /// <summary>The approved datasets plus those every project receives, each once, in order.</summary>
    public static IReadOnlyList<string> WithAlwaysProvisioned(IEnumerable<string> datasets, ProvisioningOptions options) =>
        options.AlwaysProvisioned.Concat(datasets).Distinct(StringComparer.Ordinal).ToList();

    [GeneratedRegex("^LLC_[0-9]{4}$")]
    private static partial Regex ProjectIdPattern();

    [GeneratedRegex("^[A-Z][A-Z0-9_]{1,19}$")]
    private static partial Regex StudyPattern();
}
