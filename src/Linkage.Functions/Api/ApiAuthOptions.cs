namespace Linkage.Functions.Api;

/// <summary>How bearer tokens are validated (section <c>Api</c>).</summary>
public sealed class ApiAuthOptions
{
    public const string SectionName = "Api";

    /// <summary>Entra ID authority, e.g. <c>https://login.microsoftonline.com/&lt;tenant id&gt;/v2.0</c>. Empty: no Entra tokens.</summary>
    public string? Authority { get; set; }

    /// <summary>The app registration's audiences (its client id and/or <c>api://…</c> URI), comma-separated.</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Development only: also accept tokens from <c>linkage dev-token</c>, signed by the key in
    /// <see cref="DevelopmentKeyFolder"/>. Ignored unless the app runs in the Development environment.
    /// </summary>
    public bool AcceptDevelopmentTokens { get; set; } = true;

    /// <summary>Folder of the development signing key (default <c>~/.linkage/dev-token</c>).</summary>
    public string? DevelopmentKeyFolder { get; set; }

    public IReadOnlyList<string> Audiences =>
        (Audience ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
