using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Linkage.Infra.Tests;

/// <summary>One data-plane grant read from the compiled template: who (zone of the identity), which role, on what.</summary>
/// <param name="Principal">"ttp" or "tre" (the identity module that feeds it), or the unresolved expression.</param>
/// <param name="Target">The deployment that made the resource (e.g. storage-ttp-data, keyvault-ttp, cosmos), plus a
/// container, key or database below it.</param>
internal sealed record Grant(string Principal, string Role, string ResourceType, string Target, string? Below)
{
    /// <summary>The zone that owns the target: from the module name (…-ttp…, …-tre…) or, for Cosmos, the database.</summary>
    public string? OwnerZone =>
        Below is "linkage-ttp" ? "ttp"
        : Below is "linkage-tre" ? "tre"
        : Target.Contains("-ttp", StringComparison.Ordinal) ? "ttp"
        : Target.Contains("-tre", StringComparison.Ordinal) ? "tre"
        : null;

    public string Where => Below is null ? Target : $"{Target} / {Below}";
}

/// <summary>
/// Reads every role assignment of the compiled infra/main.bicep and resolves it to identities and resources, so the
/// zone separation is proved from what ARM would deploy, not from what the Bicep source seems to say.
/// </summary>
internal static partial class AccessModel
{
    public const string AccessDeployment = "access";

    /// <summary>The one exception to "each identity only within its own zone": the TTP writes the processor's inbox.</summary>
    public const string ProcessorInbox = "processor-from-ttp";

    private static readonly Dictionary<string, string> RoleNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["12338af0-0e69-4776-bea7-57ae8d297424"] = "Key Vault Crypto User",
        ["14b46e9e-c2b7-41b4-b07b-48a6ebf60603"] = "Key Vault Crypto Officer",
        ["00000000-0000-0000-0000-000000000002"] = "Cosmos DB Built-in Data Contributor",
        ["00000000-0000-0000-0000-000000000001"] = "Cosmos DB Built-in Data Reader",
    };

    public static IEnumerable<JsonObject> Deployments(JsonObject template) =>
        (template["resources"] as JsonArray ?? []).OfType<JsonObject>().Where(r => (string?)r["type"] == "Microsoft.Resources/deployments");

    public static JsonObject Deployment(JsonObject main, string name) => Deployments(main).Single(d => (string?)d["name"] == name);

    /// <summary>Every role assignment in the template and its nested deployments, with the deployment it is in.</summary>
    public static IEnumerable<(string Deployment, JsonObject Resource)> RoleAssignments(JsonObject template, string at = "main")
    {
        foreach (var r in (template["resources"] as JsonArray ?? []).OfType<JsonObject>())
        {
            string type = (string?)r["type"] ?? "";
            if (type.EndsWith("roleAssignments", StringComparison.OrdinalIgnoreCase))
            {
                yield return (at, r);
            }

            if (type == "Microsoft.Resources/deployments" && r["properties"]?["template"] is JsonObject inner)
            {
                foreach (var x in RoleAssignments(inner, (string?)r["name"] ?? "?"))
                {
                    yield return x;
                }
            }
        }
    }

    public static IReadOnlyList<Grant> Grants(JsonObject main)
    {
        var access = Deployment(main, AccessDeployment);
        var template = access["properties"]!["template"]!.AsObject();
        var passed = access["properties"]!["parameters"]!.AsObject();
        var variables = template["variables"]!.AsObject();
        var mainVariables = main["variables"]!.AsObject();

        string Param(string name)
        {
            if (passed[name]?["value"] is JsonValue v)
            {
                return Source(v.ToString(), mainVariables);
            }

            return (string?)template["parameters"]?[name]?["defaultValue"] ?? $"<{name}?>";
        }

        string RoleOf(string expression)
        {
            var m = VariableRole().Match(expression);
            string id = m.Success
                ? (m.Groups[2].Success ? (string?)variables[m.Groups[1].Value]?[m.Groups[2].Value] : (string?)variables[m.Groups[1].Value]) ?? expression
                : expression;
            return RoleNames.TryGetValue(id, out var name) ? name : id;
        }

        var grants = new List<Grant>();
        foreach (var r in (template["resources"] as JsonArray ?? []).OfType<JsonObject>())
        {
            string type = (string?)r["type"] ?? "";
            if (!type.EndsWith("roleAssignments", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var props = r["properties"]!;
            string principalExpr = (string?)props["principalId"] ?? "";
            var pm = Parameter().Match(principalExpr);
            string principalSource = pm.Success ? Param(pm.Groups[1].Value) : principalExpr;
            string principal = principalSource switch { "identity-ttp" => "ttp", "identity-tre" => "tre", _ => principalSource };
            string role = RoleOf((string?)props["roleDefinitionId"] ?? "");

            bool cosmos = type.Contains("DocumentDB", StringComparison.Ordinal);
            string scope = cosmos ? (string?)props["scope"] ?? "" : (string?)r["scope"] ?? "";
            if (ResourceIdCall(scope) is not ({ } resourceType, { } argumentText))
            {
                grants.Add(new Grant(principal, role, "?", scope, null));
                continue;
            }

            var args = Argument().Matches(argumentText).Select(a => a.Groups[1].Success ? Param(a.Groups[1].Value) : a.Groups[2].Value).ToList();
            string target = args[0];
            string? below = resourceType switch
            {
                "Microsoft.Storage/storageAccounts/blobServices/containers" => args.Count > 2 ? args[2] : null,
                "Microsoft.KeyVault/vaults/keys" => args.Count > 1 && args[1] == args[0] ? "its key-encryption key" : "key " + (args.Count > 1 ? args[1] : "?"),
                _ => null,
            };

            if (cosmos)
            {
                var db = CosmosDatabase().Match(scope);
                below = db.Success ? Param(db.Groups[1].Value) : null;
                resourceType += below is null ? " (whole account)" : "/dbs";
            }

            grants.Add(new Grant(principal, role, resourceType, target, below));
        }

        return grants;
    }

    /// <summary>What the deployment promises; each string says one violation.</summary>
    public static IReadOnlyList<string> Violations(JsonObject main)
    {
        var problems = new List<string>();
        foreach (var (deployment, r) in RoleAssignments(main).Where(x => x.Deployment != AccessDeployment))
        {
            problems.Add($"A role assignment outside infra/app/access.bicep (deployment '{deployment}'): {r.ToJsonString()}");
        }

        foreach (var g in Grants(main))
        {
            if (g.Principal is not ("ttp" or "tre"))
            {
                problems.Add($"{g.Role} on {g.Where} is granted to '{g.Principal}', not to the TTP's or the TRE's identity.");
                continue;
            }

            if (g.ResourceType.EndsWith("(whole account)", StringComparison.Ordinal))
            {
                problems.Add($"{g.Principal}: {g.Role} on the whole Cosmos account (it must be scoped to the zone's database).");
                continue;
            }

            if (g.OwnerZone is null)
            {
                problems.Add($"{g.Principal}: {g.Role} on {g.Where}, which belongs to no zone.");
                continue;
            }

            bool inboxWrite = g.Principal == "ttp" && g.OwnerZone == "tre" && g.Below == ProcessorInbox
                && g.ResourceType == "Microsoft.Storage/storageAccounts/blobServices/containers" && g.Role == "Storage Blob Data Contributor";
            if (g.OwnerZone != g.Principal && !inboxWrite)
            {
                problems.Add($"{g.Principal}'s identity has {g.Role} on {g.Where}, which is the {g.OwnerZone} zone's.");
            }
        }

        return problems;
    }

    /// <summary>The access table of docs/deploy.md, generated from the template.</summary>
    public static string Table(JsonObject main)
    {
        var lines = new List<string>
        {
            "| identity | role | resource (module / below) | resource type |",
            "|---|---|---|---|",
        };
        foreach (var g in Grants(main).OrderBy(g => g.Principal, StringComparer.Ordinal).ThenBy(g => g.Target, StringComparer.Ordinal).ThenBy(g => g.Below, StringComparer.Ordinal).ThenBy(g => g.Role, StringComparer.Ordinal))
        {
            lines.Add($"| {g.Principal.ToUpperInvariant()} app | {g.Role} | {g.Where} | `{g.ResourceType}` |");
        }

        return string.Join('\n', lines) + "\n";
    }

    /// <summary>A value main.bicep passes: the module whose output it is, a variable's value, or the literal.</summary>
    private static string Source(string value, JsonObject mainVariables)
    {
        var m = DeploymentOutput().Match(value);
        if (m.Success)
        {
            return m.Groups[1].Value;
        }

        var v = MainVariable().Match(value);
        if (v.Success && mainVariables[v.Groups[1].Value] is JsonValue literal)
        {
            return literal.ToString();
        }

        return value;
    }

    [GeneratedRegex(@"^\[parameters\('(\w+)'\)\]$")]
    private static partial Regex Parameter();

    [GeneratedRegex(@"variables\('(\w+)'\)(?:\.(\w+))?")]
    private static partial Regex VariableRole();

    /// <summary>The first resourceId('type', args…) call of an expression: its type and the text of its other arguments.</summary>
    private static (string Type, string Arguments)? ResourceIdCall(string expression)
    {
        const string call = "resourceId('";
        int start = expression.IndexOf(call, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        int typeStart = start + call.Length;
        int typeEnd = expression.IndexOf('\'', typeStart);
        int depth = 1;
        int i = typeEnd + 1;
        for (; i < expression.Length && depth > 0; i++)
        {
            depth += expression[i] switch { '(' => 1, ')' => -1, _ => 0 };
        }

        return (expression[typeStart..typeEnd], expression[(typeEnd + 1)..(i - 1)]);
    }

    [GeneratedRegex(@"parameters\('(\w+)'\)|'([^']*)'")]
    private static partial Regex Argument();

    [GeneratedRegex(@"/dbs/\{1\}',.*, parameters\('(\w+)'\)\)\]$")]
    private static partial Regex CosmosDatabase();

    [GeneratedRegex(@"'Microsoft\.Resources/deployments', '([^']+)'\)")]
    private static partial Regex DeploymentOutput();

    [GeneratedRegex(@"^\[variables\('(\w+)'\)\]$")]
    private static partial Regex MainVariable();
}
