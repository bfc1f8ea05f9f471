using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Linkage.Infra.Tests;

/// <summary>
/// The zones stay apart in what ARM would deploy (the compiled infra/main.bicep): no identity but the TTP's has a data
/// role on the identifier account, the TTP vault or key, or the TTP database (its keys container included); no identity
/// but the TRE's can read the curated and project containers; the TTP writes only the processor's inbox outside its zone.
/// </summary>
public sealed class SeparationTests(ITestOutputHelper output)
{
    [Fact]
    public void The_compiled_template_keeps_the_zones_apart()
    {
        var main = Bicep.CompiledMain();
        output.WriteLine(AccessModel.Table(main));
        var violations = AccessModel.Violations(main);
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void Each_identity_has_what_its_code_needs_and_the_identifier_side_only_the_TTP()
    {
        var grants = AccessModel.Grants(Bicep.CompiledMain());

        Assert.All(grants.Where(g => g.Target == "storage-ttp-data"), g => Assert.Equal("ttp", g.Principal));
        Assert.All(grants.Where(g => g.Target == "keyvault-ttp"), g => Assert.Equal("ttp", g.Principal));
        Assert.All(grants.Where(g => g.Below == "linkage-ttp"), g => Assert.Equal("ttp", g.Principal));

        // Who may read the curated and project containers (account-wide or on the container): the TRE only.
        var treAccount = grants.Where(g => g.Target == "storage-tre-data").ToList();
        Assert.All(treAccount.Where(g => g.Below is null or "tre-curated" or "tre-projects" || g.Below?.StartsWith("project-", StringComparison.Ordinal) == true),
            g => Assert.Equal("tre", g.Principal));
        Assert.Equal(
            [("ttp", "Storage Blob Data Contributor", "processor-from-ttp")],
            treAccount.Where(g => g.Principal == "ttp").Select(g => (g.Principal, g.Role, g.Below)).ToList());

        Assert.Contains(grants, g => g is { Principal: "ttp", Target: "storage-ttp-data", Role: "Storage Blob Data Owner", Below: null });
        Assert.Contains(grants, g => g is { Principal: "ttp", Target: "storage-ttp-data", Role: "Storage Queue Data Contributor" });
        Assert.Contains(grants, g => g is { Principal: "ttp", Target: "keyvault-ttp", Role: "Key Vault Crypto User", Below: "its key-encryption key" });
        Assert.DoesNotContain(grants, g => g is { Principal: "ttp", Target: "keyvault-ttp", Below: null });
        Assert.Contains(grants, g => g is { Principal: "ttp", Role: "Cosmos DB Built-in Data Contributor", Below: "linkage-ttp" });
        Assert.Contains(grants, g => g is { Principal: "tre", Target: "storage-tre-data", Role: "Storage Blob Data Owner", Below: null });
        Assert.Contains(grants, g => g is { Principal: "tre", Target: "keyvault-tre", Role: "Key Vault Crypto Officer" });
        Assert.Contains(grants, g => g is { Principal: "tre", Role: "Cosmos DB Built-in Data Contributor", Below: "linkage-tre" });
        foreach (string zone in new[] { "ttp", "tre" })
        {
            foreach (string role in new[] { "Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor" })
            {
                Assert.Contains(grants, g => g.Principal == zone && g.Target == $"storage-{zone}-host" && g.Role == role);
            }
        }
    }

    [Fact]
    public void Each_zone_database_has_its_own_keys_container_and_the_vaults_are_configured_for_their_keys()
    {
        var main = Bicep.CompiledMain();
        var databases = AccessModel.Deployment(main, "cosmos")["properties"]!["parameters"]!["databases"]!["value"]!.AsArray();
        Assert.Equal(2, databases.Count);
        Assert.All(databases, d => Assert.Contains(d!["containers"]!.AsArray(), c => (string?)c!["name"] == "keys" && (string?)c["partitionKey"] == "/purpose"));

        Assert.Equal(true, (bool?)AccessModel.Deployment(main, "keyvault-ttp")["properties"]!["parameters"]!["enablePurgeProtection"]!["value"]);
        Assert.Equal(false, (bool?)AccessModel.Deployment(main, "keyvault-tre")["properties"]!["parameters"]!["enablePurgeProtection"]!["value"]);

        var cosmos = AccessModel.Deployment(main, "cosmos")["properties"]!["template"]!["resources"]!.AsArray()
            .OfType<JsonObject>().Single(r => (string?)r["type"] == "Microsoft.DocumentDB/databaseAccounts");
        Assert.Equal(true, (bool?)cosmos["properties"]!["disableLocalAuth"]);
    }

    // --- the checker catches violations (mutations of the compiled template) ---------------------------------------

    [Fact]
    public void Catches_the_TRE_identity_on_the_identifier_account()
    {
        var main = Bicep.CompiledMain();
        Assignment(main, "ttpDataAccountName", "ttpPrincipalId")["properties"]!["principalId"] = "[parameters('trePrincipalId')]";
        Assert.Contains(AccessModel.Violations(main), v => v.Contains("tre's identity has Storage Blob Data Owner on storage-ttp-data", StringComparison.Ordinal));
    }

    [Fact]
    public void Catches_the_TRE_identity_on_the_TTP_key()
    {
        var main = Bicep.CompiledMain();
        Assignment(main, "ttpKekName", "ttpPrincipalId")["properties"]!["principalId"] = "[parameters('trePrincipalId')]";
        Assert.Contains(AccessModel.Violations(main), v => v.Contains("tre's identity has Key Vault Crypto User on keyvault-ttp", StringComparison.Ordinal));
    }

    [Fact]
    public void Catches_the_TRE_identity_on_the_TTP_database_and_an_account_wide_Cosmos_role()
    {
        var main = Bicep.CompiledMain();
        var tre = Assignment(main, "treDatabaseName", "trePrincipalId");
        tre["properties"]!["scope"] = ((string)tre["properties"]!["scope"]!).Replace("treDatabaseName", "ttpDatabaseName", StringComparison.Ordinal);
        Assert.Contains(AccessModel.Violations(main), v => v.Contains("tre's identity has Cosmos DB Built-in Data Contributor on cosmos / linkage-ttp", StringComparison.Ordinal));

        var wide = Bicep.CompiledMain();
        Assignment(wide, "ttpDatabaseName", "ttpPrincipalId")["properties"]!["scope"] = "[resourceId('Microsoft.DocumentDB/databaseAccounts', parameters('cosmosAccountName'))]";
        Assert.Contains(AccessModel.Violations(wide), v => v.Contains("on the whole Cosmos account", StringComparison.Ordinal));
    }

    [Fact]
    public void Catches_the_TTP_reading_the_TRE_account_beyond_the_processor_inbox()
    {
        var main = Bicep.CompiledMain();
        var inbox = Assignment(main, "processorInboxContainer", "ttpPrincipalId");
        inbox["scope"] = "[resourceId('Microsoft.Storage/storageAccounts', parameters('treDataAccountName'))]";
        Assert.Contains(AccessModel.Violations(main), v => v.Contains("ttp's identity has Storage Blob Data Contributor on storage-tre-data,", StringComparison.Ordinal));

        var curated = Bicep.CompiledMain();
        Assignment(curated, "processorInboxContainer", "ttpPrincipalId")["scope"] =
            "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('treDataAccountName'), 'default', 'tre-curated')]";
        Assert.Contains(AccessModel.Violations(curated), v => v.Contains("on storage-tre-data / tre-curated", StringComparison.Ordinal));
    }

    [Fact]
    public void Catches_a_role_assignment_outside_the_access_module()
    {
        var main = Bicep.CompiledMain();
        var app = AccessModel.Deployment(main, "app-ttp")["properties"]!["template"]!["resources"]!.AsArray();
        app.Add(JsonNode.Parse("""{"type":"Microsoft.Authorization/roleAssignments","apiVersion":"2022-04-01","name":"x","properties":{"principalId":"y","roleDefinitionId":"z"}}"""));
        Assert.Contains(AccessModel.Violations(main), v => v.Contains("outside infra/app/access.bicep (deployment 'app-ttp')", StringComparison.Ordinal));
    }

    [Fact]
    public void Catches_an_identity_fed_from_the_wrong_module()
    {
        var main = Bicep.CompiledMain();
        var p = AccessModel.Deployment(main, AccessModel.AccessDeployment)["properties"]!["parameters"]!;
        p["ttpPrincipalId"] = p["trePrincipalId"]!.DeepClone();
        Assert.Contains(AccessModel.Violations(main), v => v.Contains("tre's identity has", StringComparison.Ordinal) && v.Contains("storage-ttp-data", StringComparison.Ordinal));
    }

    private static JsonObject Assignment(JsonObject main, string scopeParameter, string principalParameter) =>
        AccessModel.Deployment(main, AccessModel.AccessDeployment)["properties"]!["template"]!["resources"]!.AsArray().OfType<JsonObject>()
            .First(r => ((string?)r["scope"] + (string?)r["properties"]!["scope"]).Contains($"parameters('{scopeParameter}')", StringComparison.Ordinal)
                && (string?)r["properties"]!["principalId"] == $"[parameters('{principalParameter}')]");
}
