using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi;

namespace Linkage.Functions.Tests.Api;

/// <summary>
/// <c>GET /api/openapi.json</c> is anonymous and lists exactly the code's HTTP functions, each with the token and role it
/// needs and the answers it gives: a new endpoint appears without anyone editing the document.
/// </summary>
[Collection(LocalStackCollection.Name)]
public sealed partial class OpenApiTests(LocalStackFixture stack)
{
    private static readonly string[] Anonymous = ["Health"];

    private static readonly string[] Verbs = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    /// <summary>The code's HTTP functions, as the local host serves them.</summary>
    private static List<(FunctionEntry Function, HttpTriggerAttribute Trigger)> HttpFunctions() =>
        FunctionCatalog.All
            .Select(f => (Function: f, Trigger: f.Method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(t => t is not null)))
            .Where(x => x.Trigger is not null)
            .Select(x => (x.Function, x.Trigger!))
            .ToList();

    [Fact]
    public async Task The_document_needs_a_token_and_lists_every_http_function_with_its_role_and_answers()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        using var http = app.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/openapi.json")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/openapi.json");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.Token("reader without roles"));
        var response = await http.SendAsync(request);
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /api/openapi.json with a token of no role: {(int)response.StatusCode} {json}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("Linkage pipeline API", root.GetProperty("info").GetProperty("title").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("info").GetProperty("version").GetString()));
        var bearer = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.Equal("JWT", bearer.GetProperty("bearerFormat").GetString());

        // Exactly one operation per HTTP function and method, under the function's name.
        var operations = root.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(op => Verbs.Contains(op.Name)).Select(op => (Key: $"{op.Name.ToUpperInvariant()} {path.Name}", Operation: op.Value)))
            .ToList();
        var expected = HttpFunctions()
            .SelectMany(x => (x.Trigger.Methods is { Length: > 0 } m ? m : ["get", "post", "put", "patch", "delete"]).Select(m => (Key: $"{m.ToUpperInvariant()} /api/{RouteParameter().Replace((x.Trigger.Route ?? x.Function.Name).TrimStart('/'), "{${name}}")}", x.Function.Name)))
            .ToList();
        var missing = expected.Select(e => e.Key).Except(operations.Select(o => o.Key)).Order().ToList();
        var extra = operations.Select(o => o.Key).Except(expected.Select(e => e.Key)).Order().ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"The document and the code's HTTP functions differ. Missing from the document: [{string.Join(", ", missing)}]; in the document but not the code: [{string.Join(", ", extra)}].");
        Assert.Equal(expected.Count, operations.Count);
        Assert.Contains(expected, e => e.Name == "OpenApi"); // it lists itself
        var byName = operations.ToDictionary(o => o.Operation.GetProperty("operationId").GetString()!, o => o.Operation);
        Assert.All(expected, e => Assert.True(byName.ContainsKey(e.Name), $"No operation has the id {e.Name} ({e.Key})."));

        foreach (var (name, operation) in byName)
        {
            var responses = operation.GetProperty("responses");
            if (Anonymous.Contains(name))
            {
                Assert.False(operation.TryGetProperty("security", out _), $"{name} is anonymous but its operation has a security requirement.");
                continue;
            }

            string role = FunctionCatalog.Find(name)!.Method.GetCustomAttribute<ApiDocAttribute>()?.Role ?? "";
            Assert.True(operation.TryGetProperty("security", out var security) && security.GetArrayLength() > 0, $"{name} has no security requirement.");
            var requirement = security[0];
            Assert.True(requirement.TryGetProperty("bearer", out var roles), $"{name}'s security requirement is not the bearer scheme: {requirement}");
            if (role == Roles.AnySignedIn)
            {
                Assert.Empty(roles.EnumerateArray());
                Assert.True(responses.TryGetProperty("401", out _), $"{name} documents no 401 answer.");
                continue;
            }

            Assert.Contains(role, roles.EnumerateArray().Select(r => r.GetString()));
            Assert.Contains(role, operation.GetProperty("description").GetString(), StringComparison.Ordinal);
            foreach (string status in new[] { "401", "403" })
            {
                Assert.True(responses.TryGetProperty(status, out var problem), $"{name} documents no {status} answer.");
                Assert.Equal("#/components/schemas/ProblemDetails", problem.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString());
            }
        }

        var redrive = byName["RedriveDelivery"].GetProperty("responses");
        Assert.True(redrive.TryGetProperty("202", out var accepted), "The re-drive's success answer is not 202.");
        Assert.False(redrive.TryGetProperty("200", out _), "The re-drive documents a 200 it never answers.");
        Assert.True(accepted.GetProperty("headers").TryGetProperty("Location", out _), "The re-drive's 202 has no Location header.");
        Assert.Equal(["id"], byName["GetDelivery"].GetProperty("parameters").EnumerateArray().Where(p => p.GetProperty("in").GetString() == "path").Select(p => p.GetProperty("name").GetString()));

        // And it is a valid OpenAPI document to the library's own reader and rules.
        var (parsed, diagnostic) = OpenApiDocument.Parse(json, "json");
        Assert.True(diagnostic is null || diagnostic.Errors.Count == 0, "The reader found errors: " + string.Join("; ", diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []));
        var errors = parsed!.Validate(ValidationRuleSet.GetDefaultRuleSet())?.ToList() ?? [];
        Assert.True(errors.Count == 0, "The document breaks OpenAPI rules: " + string.Join("; ", errors.Select(e => $"{e.Pointer}: {e.Message}")));
    }

    [Fact]
    public void Every_http_function_says_what_it_does_and_which_role_it_needs()
    {
        var undocumented = HttpFunctions().Where(x => x.Function.Method.GetCustomAttribute<ApiDocAttribute>() is null).Select(x => x.Function.Name).ToList();
        Assert.True(undocumented.Count == 0, $"Add [ApiDoc(summary, role: Roles.X or null)] to: {string.Join(", ", undocumented)}.");

        var anonymous = HttpFunctions().Where(x => x.Function.Method.GetCustomAttribute<ApiDocAttribute>()!.Role is null).Select(x => x.Function.Name).Order().ToList();
        Assert.Equal(Anonymous.Order(), anonymous);
        Assert.All(HttpFunctions(), x =>
        {
            string? role = x.Function.Method.GetCustomAttribute<ApiDocAttribute>()!.Role;
            Assert.True(role is null or Roles.AnySignedIn || Roles.All.Contains(role), $"{x.Function.Name}: '{role}' is not one of the app roles.");
        });
    }

    [GeneratedRegex(@"\{\*{0,2}(?<name>[^}:?=]+)[^}]*\}")]
    private static partial Regex RouteParameter();
}
