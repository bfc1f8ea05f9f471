using System.Reflection;
using System.Text.RegularExpressions;
using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Linkage.Functions.Api;

/// <summary>
/// <c>GET /api/openapi.json</c> (any signed-in caller, as every endpoint but health): this app's HTTP API as an OpenAPI 3.1
/// document, generated from the functions' own attributes so that it cannot drift from the code.
/// </summary>
[Zone(FunctionZone.Platform)]
public sealed class OpenApiFunction(ApiGate gate, IOptions<ZoneOptions> zones)
{
    [Function("OpenApi")]
    [ApiDoc("This API as an OpenAPI document", role: Roles.AnySignedIn, Description = "Every HTTP endpoint this app runs, with its route, the role it needs and its answers.")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.AnySignedIn, cancellationToken);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        // Only the zones this deployment runs: a TTP app does not advertise the TRE's endpoints, which it would answer 404.
        var enabled = zones.Value.EnabledZones;
        var document = OpenApiDocumentBuilder.Build(FunctionCatalog.All.Where(f => enabled.Contains(f.Zone)));
        string json = await document.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, cancellationToken);
        return new ContentResult { Content = json, ContentType = "application/json", StatusCode = StatusCodes.Status200OK };
    }
}

/// <summary>Turns HTTP functions (<c>[HttpTrigger]</c> for route and methods, <see cref="ApiDocAttribute"/> for the rest) into an OpenAPI document.</summary>
public static partial class OpenApiDocumentBuilder
{
    public const string Title = "Linkage pipeline API";
    public const string BearerScheme = "bearer";
    public const string ProblemSchema = "ProblemDetails";

    /// <summary>The Functions host's prefix for HTTP routes (host.json keeps the default).</summary>
    public const string RoutePrefix = "/api/";

    public static OpenApiDocument Build(IEnumerable<FunctionEntry> functions)
    {
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = Title,
                Version = AppVersion(),
                Description = "The operators' API of the linkage pipeline. JSON in and out (camelCase, UTC ISO 8601 times); errors are RFC 9457 "
                    + "application/problem+json with a stable type. Every endpoint but the health check and this document needs a bearer token "
                    + "with the app role named on the operation. Long work answers 202 with a Location header to a workflow's status.",
            },
            Paths = [],
            Components = new OpenApiComponents
            {
                SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    [BearerScheme] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.Http,
                        Scheme = "bearer",
                        BearerFormat = "JWT",
                        Description = "A Microsoft Entra ID access token for the app registration, carrying app roles (locally: `linkage dev-token --role <role>`). "
                            + "No token or a bad one: 401; a valid token without the operation's role: 403.",
                    },
                },
                Schemas = new Dictionary<string, IOpenApiSchema> { [ProblemSchema] = ProblemDetailsSchema() },
            },
        };

        // In path order, so that the document reads like the API rather than like the alphabet of function names.
        var endpoints = functions
            .Select(f => (Function: f, Trigger: f.Method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(t => t is not null)))
            .Where(x => x.Trigger is not null)
            .Select(x => (x.Function, x.Trigger, Route: ParseRoute(x.Trigger!.Route ?? x.Function.Name)))
            .OrderBy(x => x.Route.Path, StringComparer.Ordinal);
        foreach (var (function, trigger, (path, pathParameters)) in endpoints)
        {
            if (document.Paths.GetValueOrDefault(path) is not OpenApiPathItem item)
            {
                item = new OpenApiPathItem();
                document.Paths.Add(path, item);
            }

            var operations = item.Operations ??= [];
            string[] methods = trigger!.Methods is { Length: > 0 } m ? m : ["get", "post", "put", "patch", "delete"];
            foreach (string method in methods)
            {
                var httpMethod = new HttpMethod(method.ToUpperInvariant());
                if (!operations.TryAdd(httpMethod, Operation(document, function, pathParameters)))
                {
                    throw new InvalidOperationException($"{httpMethod} {path} is served by two functions; {function.Name} is the second.");
                }
            }
        }

        return document;
    }

    private static OpenApiOperation Operation(OpenApiDocument document, FunctionEntry function, IReadOnlyList<OpenApiParameter> pathParameters)
    {
        // Without [ApiDoc] the endpoint is still listed, as protected: the API's rule is that only health is anonymous.
        var doc = function.Method.GetCustomAttribute<ApiDocAttribute>();
        bool isProtected = doc is null || doc.Role is not null;
        string description = doc?.Description ?? (doc is null ? $"Not documented yet: {function.Method.DeclaringType?.Name}.{function.Method.Name} has no [ApiDoc]." : "");
        if (isProtected)
        {
            string role = doc?.Role is { } r && r != Roles.AnySignedIn ? $"Needs the app role {r}." : "Needs a bearer token (any app role).";
            description = string.IsNullOrEmpty(description) ? role : $"{description}\n\n{role}";
        }
        else
        {
            description = string.IsNullOrEmpty(description) ? "Anonymous." : $"{description}\n\nAnonymous.";
        }

        var operation = new OpenApiOperation
        {
            OperationId = function.Name,
            Summary = doc?.Summary ?? function.Name,
            Description = description,
            Parameters = [
                .. pathParameters,
                .. (doc?.RequiredQuery ?? []).Select(q => QueryParameter(q, required: true)),
                .. (doc?.Query ?? []).Select(q => QueryParameter(q, required: false)),
            ],
            Responses = [],
        };
        if (operation.Parameters.Count == 0)
        {
            operation.Parameters = null;
        }

        int success = doc?.SuccessStatus ?? StatusCodes.Status200OK;
        var successResponse = new OpenApiResponse
        {
            Description = ReasonPhrases.GetReasonPhrase(success),
            Content = new Dictionary<string, IOpenApiMediaType> { ["application/json"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } } },
        };
        if (success == StatusCodes.Status202Accepted)
        {
            successResponse.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Location"] = new OpenApiHeader { Description = "The status resource of the work started (GET it with the same role).", Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference" } },
            };
        }

        var responses = new SortedDictionary<int, IOpenApiResponse> { [success] = successResponse };
        foreach (int status in doc?.Problems ?? [])
        {
            responses.TryAdd(status, Problem(document, ReasonPhrases.GetReasonPhrase(status)));
        }

        if (isProtected)
        {
            responses[StatusCodes.Status401Unauthorized] = Problem(document, "No bearer token, or one that is expired, forged or for another audience.");
            if (doc?.Role != Roles.AnySignedIn)
            {
                responses[StatusCodes.Status403Forbidden] = Problem(document, doc?.Role is { } r ? $"The token lacks the app role {r}." : "The token lacks the role this endpoint needs.");
            }

            operation.Security =
            [
                // OpenAPI 3.1 lets a non-OAuth requirement list role names: the role is machine-readable here too.
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = doc?.Role is { } role && role != Roles.AnySignedIn ? [role] : [] },
            ];
        }

        foreach (var (status, response) in responses)
        {
            operation.Responses.Add(status.ToString(System.Globalization.CultureInfo.InvariantCulture), response);
        }

        return operation;
    }

    /// <summary><c>deliveries/{id:guid}</c> → <c>/api/deliveries/{id}</c> and its path parameters (a route constraint names the type).</summary>
    private static (string Path, IReadOnlyList<OpenApiParameter> Parameters) ParseRoute(string route)
    {
        var parameters = new List<OpenApiParameter>();
        string template = RouteParameter().Replace(route.TrimStart('/'), match =>
        {
            string name = match.Groups["name"].Value;
            string constraint = match.Groups["constraint"].Value;
            var schema = constraint switch
            {
                "int" or "long" => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = constraint == "int" ? "int32" : "int64" },
                "bool" => new OpenApiSchema { Type = JsonSchemaType.Boolean },
                "guid" => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                _ => new OpenApiSchema { Type = JsonSchemaType.String },
            };
            parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Path, Required = true, Schema = schema });
            return "{" + name + "}";
        });
        return (RoutePrefix + template, parameters);
    }

    [GeneratedRegex(@"\{\*{0,2}(?<name>[^}:?=]+)(?::(?<constraint>[a-z]+)[^}]*)?[^}]*\}")]
    private static partial Regex RouteParameter();

    private static OpenApiParameter QueryParameter(string name, bool required) =>
        new() { Name = name, In = ParameterLocation.Query, Required = required, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };

    private static OpenApiResponse Problem(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, IOpenApiMediaType> { [Problems.ContentType] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(ProblemSchema, document) } },
    };

    private static OpenApiSchema ProblemDetailsSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "RFC 9457 problem details; type is a stable URN per error (urn:linkage:problem:<code>) and detail says what to do.",
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri" },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
        },
    };

    private static string AppVersion()
    {
        var assembly = typeof(OpenApiDocumentBuilder).Assembly;
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational?.Split('+')[0] ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
    }
}
