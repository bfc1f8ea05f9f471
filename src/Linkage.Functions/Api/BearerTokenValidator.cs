using System.Security.Claims;
using Linkage.Azure.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Linkage.Functions.Api;

/// <summary>Who called: the token's subject and name, and its app roles.</summary>
public sealed record ApiCaller(string Subject, string Name, IReadOnlySet<string> Roles)
{
    public static ApiCaller Anonymous { get; } = new("anonymous", "anonymous", new HashSet<string>());
}

/// <summary>
/// Validates bearer tokens: Entra ID tokens for the app's registration (issuer and keys from the authority's OpenID
/// configuration), and — in the Development environment only — tokens from <c>linkage dev-token</c>. One code path for
/// both: signature, issuer, audience, lifetime; the roles come from the <c>roles</c> claim.
/// </summary>
public sealed class BearerTokenValidator
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly List<TokenValidationParameters> _issuers = [];

    public BearerTokenValidator(IOptions<ApiAuthOptions> options, IHostEnvironment environment, ILogger<BearerTokenValidator> logger)
    {
        var o = options.Value;
        if (!string.IsNullOrEmpty(o.Authority))
        {
            string metadata = o.Authority.TrimEnd('/') + "/.well-known/openid-configuration";
            _issuers.Add(new TokenValidationParameters
            {
                ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(metadata, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever()),
                ValidAudiences = o.Audiences,
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                ValidateAudience = true,
                ValidateIssuer = true,
                ValidateLifetime = true,
                RequireSignedTokens = true,
                NameClaimType = "name",
                RoleClaimType = "roles",
            });
        }

        if (o.AcceptDevelopmentTokens && environment.IsDevelopment())
        {
            var dev = DevelopmentTokens.GetOrCreate(o.DevelopmentKeyFolder);
            _issuers.Add(new TokenValidationParameters
            {
                ValidIssuer = DevelopmentTokens.Issuer,
                ValidAudience = DevelopmentTokens.Audience,
                IssuerSigningKey = dev.SigningKey,
                ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                ValidateIssuerSigningKey = true,
                RequireSignedTokens = true,
                NameClaimType = "name",
                RoleClaimType = "roles",
            });
            logger.LogInformation("Development environment: bearer tokens from `linkage dev-token` ({KeyPath}) are accepted", dev.KeyPath);
        }

        if (_issuers.Count == 0)
        {
            logger.LogWarning("No token issuer is configured (Api:Authority is empty and this is not Development): every protected endpoint answers 401");
        }
    }

    /// <summary>The caller, or null with the reason when the header holds no valid token.</summary>
    public async Task<(ApiCaller? Caller, string? Failure)> ValidateAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(authorizationHeader) || !authorizationHeader.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "Send an Authorization header with a bearer token (Entra ID; locally `linkage dev-token --role <role>`).");
        }

        string token = authorizationHeader["Bearer ".Length..].Trim();
        string? failure = "No token issuer is configured for this app.";
        foreach (var parameters in _issuers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await _handler.ValidateTokenAsync(token, parameters);
            if (result.IsValid && parameters.ValidIssuer != DevelopmentTokens.Issuer && !IsAccessToken(result.ClaimsIdentity))
            {
                failure = "The token is not an access token for this API (an ID token, say); request one for its scope.";
                continue;
            }

            if (result.IsValid)
            {
                var identity = result.ClaimsIdentity;
                string subject = identity.FindFirst("oid")?.Value ?? identity.FindFirst("sub")?.Value ?? "unknown";
                string name = identity.FindFirst("name")?.Value ?? identity.FindFirst("preferred_username")?.Value ?? subject;
                var roles = identity.FindAll("roles").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
                return (new ApiCaller(subject, name, roles), null);
            }

            failure = result.Exception switch
            {
                SecurityTokenExpiredException => "The token has expired; get a new one.",
                SecurityTokenInvalidAudienceException => "The token is for another audience than this API.",
                SecurityTokenInvalidIssuerException or SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's issuer or signature is not trusted by this API.",
                _ => "The token is not valid.",
            };
        }

        return (null, failure);
    }

    /// <summary>Entra ID access tokens name the client they were issued to (<c>azp</c> in v2, <c>appid</c> in v1); ID tokens do not.</summary>
    private static bool IsAccessToken(ClaimsIdentity identity) => identity.FindFirst("azp") is not null || identity.FindFirst("appid") is not null;
}
