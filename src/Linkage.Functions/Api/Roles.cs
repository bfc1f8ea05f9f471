namespace Linkage.Functions.Api;

/// <summary>The app roles of the HTTP API (Entra ID app roles; <c>linkage dev-token --role</c> locally).</summary>
public static class Roles
{
    /// <summary>Workflows, held deliveries, registry summaries, the audit log.</summary>
    public const string Operator = "Linkage.Operator";

    /// <summary>Projects and provisioning.</summary>
    public const string ProjectAdmin = "Linkage.ProjectAdmin";

    /// <summary>Disclosure review.</summary>
    public const string Reviewer = "Linkage.Reviewer";

    /// <summary>The catalogue, read only.</summary>
    public const string Reader = "Linkage.Reader";

    public static IReadOnlyList<string> All { get; } = [Operator, ProjectAdmin, Reviewer, Reader];

    /// <summary>Not a role: any valid token will do (the API's own description). Only health needs none.</summary>
    public const string AnySignedIn = "*";
}
