using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Linkage.Functions.Api;

/// <summary>The outcome of <see cref="ApiGate.AuthorizeAsync"/>: the caller, or the 401/403 answer to return.</summary>
public sealed record ApiAccess(ApiCaller Caller, string Role, IActionResult? Denied)
{
    public bool Allowed => Denied is null;
}

/// <summary>
/// Every protected HTTP function starts here: no or a bad token is 401, a valid token without the role is 403. A 403 on
/// an endpoint that changes state is audited too (who tried what); a 401 is only logged, since an anonymous caller could
/// otherwise write audit entries at will.
/// </summary>
public sealed class ApiGate(BearerTokenValidator tokens, AuditLog audit, ILogger<ApiGate> logger)
{
    /// <param name="auditAction">For state-changing endpoints: the action and target to audit a denial under.</param>
    public async Task<ApiAccess> AuthorizeAsync(HttpRequest request, string role, CancellationToken cancellationToken, (string Action, string Target)? auditAction = null)
    {
        var (caller, failure) = await tokens.ValidateAsync(request.Headers.Authorization.ToString(), cancellationToken);
        if (caller is null)
        {
            logger.LogInformation("{Method} {Path}: 401 ({Reason})", request.Method, request.Path, failure);
            return new ApiAccess(ApiCaller.Anonymous, role, Problems.Unauthenticated(failure!));
        }

        if (role != Roles.AnySignedIn && !caller.Roles.Contains(role))
        {
            logger.LogInformation("{Method} {Path}: 403 for {Subject} (needs {Role})", request.Method, request.Path, caller.Subject, role);
            await AuditDenialAsync(caller, role, auditAction, StatusCodes.Status403Forbidden, cancellationToken);
            return new ApiAccess(caller, role, Problems.Forbidden($"This endpoint needs the app role {role}; the token has {(caller.Roles.Count == 0 ? "none" : string.Join(", ", caller.Roles.Order()))}. Ask an administrator to assign the role."));
        }

        return new ApiAccess(caller, role, null);
    }

    private async Task AuditDenialAsync(ApiCaller caller, string role, (string Action, string Target)? action, int status, CancellationToken cancellationToken)
    {
        if (action is { } a)
        {
            await audit.WriteAsync(caller, role, a.Action, a.Target, "denied", status, null, cancellationToken);
        }
    }
}
