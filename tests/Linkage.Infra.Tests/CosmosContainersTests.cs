using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Linkage.Azure.Keys;

namespace Linkage.Infra.Tests;

/// <summary>
/// main.bicep creates every Cosmos container the code opens, with the code's partition key, in the database of each
/// zone that opens it: the app's data-plane role cannot create a container, and a container created with another
/// partition key would fail the app's CreateContainerIfNotExists.
/// </summary>
public sealed partial class CosmosContainersTests
{
    [Fact]
    public void Every_container_the_code_opens_is_created_in_its_zones_database()
    {
        var databases = AccessModel.Deployment(Bicep.CompiledMain(), "cosmos")["properties"]!["parameters"]!["databases"]!["value"]!.AsArray();
        var main = Bicep.CompiledMain();
        var created = databases.OfType<JsonObject>().ToDictionary(
            d => Resolve((string)d["name"]!, main),
            d => d["containers"]!.AsArray().OfType<JsonObject>().ToDictionary(c => (string)c["name"]!, c => (string)c["partitionKey"]!));

        var used = CodeContainers();
        Assert.True(used.Count >= 9, $"Found only {used.Count} containers in the code: the scan is broken.");
        var problems = new List<string>();
        foreach (var (zoneFolder, id, partitionKey) in used)
        {
            string[] zones = zoneFolder switch
            {
                "Ttp" => ["linkage-ttp"],
                "Processor" or "Provisioning" or "Catalogue" => ["linkage-tre"],
                _ => ["linkage-ttp", "linkage-tre"], // platform code (deliveries, audit, workflows, keys) runs in both apps
            };
            foreach (string db in zones)
            {
                if (!created.TryGetValue(db, out var containers) || !containers.TryGetValue(id, out var pk))
                {
                    problems.Add($"{db}: container '{id}' ({zoneFolder}) is not created by main.bicep");
                }
                else if (pk != partitionKey)
                {
                    problems.Add($"{db}: container '{id}' has partition key {pk} in main.bicep, {partitionKey} in the code");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static string Resolve(string value, JsonObject main) =>
        Regex.Match(value, @"^\[variables\('(\w+)'\)\]$") is { Success: true } m ? (string)main["variables"]![m.Groups[1].Value]! : value;

    /// <summary>(folder under src/Linkage.Functions, container id, partition key) of every ContainerAsync(id, "/pk") call.</summary>
    private static List<(string Folder, string Id, string PartitionKey)> CodeContainers()
    {
        var found = new List<(string, string, string)>();
        string root = Path.Combine(Repository.Root, "src", "Linkage.Functions");
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            string text = File.ReadAllText(file);
            var constants = Constant().Matches(text).GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.First().Groups[2].Value);
            string folder = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar)[0];
            foreach (Match m in Call().Matches(text))
            {
                string id = m.Groups[1].Value switch
                {
                    "DataKeyStore.ContainerName" => DataKeyStore.ContainerName,
                    var name when constants.TryGetValue(name, out var v) => v,
                    var name => $"<unresolved {name}>",
                };
                string pk = m.Groups[2].Value == "DataKeyStore.PartitionKeyPath" ? DataKeyStore.PartitionKeyPath : m.Groups[2].Value.Trim('"');
                found.Add((folder, id, pk));
            }
        }

        return found.Distinct().ToList();
    }

    [GeneratedRegex(@"const string (\w+) = ""([^""]+)"";")]
    private static partial Regex Constant();

    [GeneratedRegex(@"\.ContainerAsync\(([\w.]+), (""/\w+""|DataKeyStore\.PartitionKeyPath)")]
    private static partial Regex Call();
}
