using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Linkage.Functions.Api;

/// <summary>RFC 9457 problem details with a stable <c>type</c> per error, and a detail that says what to do.</summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    public static ObjectResult Unauthenticated(string detail) => Create(StatusCodes.Status401Unauthorized, "unauthenticated", "No valid bearer token", detail);

    public static ObjectResult Forbidden(string detail) => Create(StatusCodes.Status403Forbidden, "forbidden", "The caller lacks the role this endpoint needs", detail);

    public static ObjectResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "not-found", "Not found", detail);

    public static ObjectResult Conflict(string code, string title, string detail) => Create(StatusCodes.Status409Conflict, code, title, detail);

    public static ObjectResult BadRequest(string code, string title, string detail) => Create(StatusCodes.Status400BadRequest, code, title, detail);

    public static ObjectResult Create(int status, string code, string title, string detail)
    {
        var problem = new ProblemDetails { Type = TypeFor(code), Title = title, Status = status, Detail = detail };
        return new ObjectResult(problem) { StatusCode = status, ContentTypes = { ContentType } };
    }

    /// <summary>Problem types are URNs: stable, and they do not pretend to be pages.</summary>
    public static string TypeFor(string code) => "urn:linkage:problem:" + code;
}
