namespace Linkage.Functions.Api;

/// <summary>
/// What <c>GET /api/openapi.json</c> says about an HTTP function: kept on the method itself, so a new endpoint documents
/// itself and nothing else needs editing. <paramref name="role"/> is the app role the endpoint demands (one of
/// <see cref="Roles"/>), or null for an anonymous endpoint; it is required so that anonymity is always a stated choice.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ApiDocAttribute(string summary, string? role) : Attribute
{
    public string Summary { get; } = summary;

    /// <summary>The app role the endpoint checks through <see cref="ApiGate"/>; null when it is anonymous.</summary>
    public string? Role { get; } = role;

    public string? Description { get; set; }

    /// <summary>The status of a successful answer (200; 202 for long work, which also sends a <c>Location</c> header).</summary>
    public int SuccessStatus { get; set; } = 200;

    /// <summary>Problem statuses the endpoint answers besides 401/403 (e.g. 400, 404, 409), as <c>application/problem+json</c>.</summary>
    public int[] Problems { get; set; } = [];

    /// <summary>Optional query parameters the endpoint reads.</summary>
    public string[] Query { get; set; } = [];

    /// <summary>Query parameters without which the endpoint answers 400.</summary>
    public string[] RequiredQuery { get; set; } = [];
}
