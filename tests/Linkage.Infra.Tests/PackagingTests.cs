using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Linkage.Infra.Tests;

/// <summary>
/// `dotnet publish` of src/Linkage.Functions is the deployment package (azure.yaml). Every trigger of a function an app
/// runs finds its connection, container or queue, and every %Setting% in the app settings main.bicep gives that app.
/// </summary>
public sealed partial class PackagingTests(PublishedPackage package, ITestOutputHelper output) : IClassFixture<PublishedPackage>
{
    public static TheoryData<string> Apps() => new() { "ttp", "tre" };

    [Theory]
    [MemberData(nameof(Apps))]
    public void Every_binding_of_the_functions_an_app_runs_resolves_in_its_settings(string app)
    {
        output.WriteLine($"dotnet publish took {package.PublishTime.TotalSeconds:F0} s");
        var main = Bicep.CompiledMain();
        var problems = Problems(main, app, package.Metadata, package.HostJson);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void The_check_catches_a_missing_connection_container_and_setting()
    {
        var main = Bicep.CompiledMain();
        var settings = AppSettings(main, "ttp");
        settings.Remove("DataStorage__blobServiceUri");
        settings.Remove("WorkflowPurgeSchedule");
        var ttpData = AccessModel.Deployment(main, "storage-ttp-data")["properties"]!["parameters"]!;
        ttpData["containers"] = new JsonObject { ["value"] = new JsonArray("ttp-file1-archive") };

        var problems = Problems(main, "ttp", package.Metadata, package.HostJson);
        output.WriteLine(string.Join(Environment.NewLine, problems));
        Assert.Contains(problems, p => p.StartsWith("ttp: File1Intake: connection 'DataStorage' has no setting", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ttp: PurgeWorkflowHistory: %WorkflowPurgeSchedule%", StringComparison.Ordinal));

        var main2 = Bicep.CompiledMain();
        AccessModel.Deployment(main2, "storage-ttp-data")["properties"]!["parameters"]!["containers"] = new JsonObject { ["value"] = new JsonArray("ttp-file1-archive") };
        Assert.Contains(Problems(main2, "ttp", package.Metadata, package.HostJson), p => p.Contains("container 'ttp-file1-inbox' is not created", StringComparison.Ordinal));
    }

    internal static List<string> Problems(JsonObject main, string app, JsonArray metadata, JsonObject hostJson)
    {
        var problems = new List<string>();
        var settings = AppSettings(main, app);
        var mainVariables = main["variables"]!.AsObject();
        var zones = mainVariables["zones"]!;
        if (zones is JsonValue reference && Variable().Match((string)reference!) is { Success: true } loaded)
        {
            zones = mainVariables[loaded.Groups[1].Value]!; // loadJsonContent compiles to a variable of its own
        }

        var disabled = zones[app]!.AsObject();

        foreach (Match m in SettingReference().Matches(hostJson.ToJsonString()))
        {
            if (!settings.ContainsKey(m.Groups[1].Value))
            {
                problems.Add($"{app}: host.json: %{m.Groups[1].Value}% is not an app setting");
            }
        }

        foreach (var f in metadata.OfType<JsonObject>())
        {
            string name = (string?)f["name"] ?? "?";
            if (disabled.ContainsKey($"AzureWebJobs.{name}.Disabled"))
            {
                continue;
            }

            foreach (var b in (f["bindings"] as JsonArray ?? []).OfType<JsonObject>())
            {
                string type = (string?)b["type"] ?? "";
                foreach (var (key, value) in b)
                {
                    if (value is JsonValue v && v.TryGetValue(out string? text))
                    {
                        foreach (Match m in SettingReference().Matches(text))
                        {
                            if (!settings.ContainsKey(m.Groups[1].Value))
                            {
                                problems.Add($"{app}: {name}: %{m.Groups[1].Value}% ({type}.{key}) is not an app setting");
                            }
                        }
                    }
                }

                if ((string?)b["connection"] is not { } connection)
                {
                    continue;
                }

                string service = type switch { "blobTrigger" or "blob" => "blobServiceUri", "queueTrigger" or "queue" => "queueServiceUri", _ => "serviceUri" };
                string? uriSetting = new[] { $"{connection}__{service}", $"{connection}__serviceUri", connection }.FirstOrDefault(settings.ContainsKey);
                if (uriSetting is null)
                {
                    problems.Add($"{app}: {name}: connection '{connection}' has no setting {connection}__{service} (or {connection}__serviceUri)");
                    continue;
                }

                if (uriSetting != connection && (!settings.ContainsKey($"{connection}__credential") || !settings.ContainsKey($"{connection}__clientId")))
                {
                    problems.Add($"{app}: {name}: connection '{connection}' is identity-based but lacks {connection}__credential or __clientId (a user-assigned identity)");
                }

                // Which storage module the URI comes from, and what it creates.
                var account = DeploymentOf((string?)settings[uriSetting]);
                if (account is null)
                {
                    problems.Add($"{app}: {name}: {uriSetting} does not come from a storage module of main.bicep");
                    continue;
                }

                var parameters = AccessModel.Deployment(main, account)["properties"]!["parameters"]!;
                if (type == "blobTrigger")
                {
                    string container = ((string?)b["path"] ?? "").Split('/')[0];
                    if (!Values(parameters["containers"]?["value"], mainVariables).Contains(container))
                    {
                        problems.Add($"{app}: {name}: container '{container}' is not created in {account}");
                    }
                }
                else if (type == "queueTrigger")
                {
                    string queue = (string?)b["queueName"] ?? "";
                    if (!Values(parameters["queues"]?["value"], mainVariables).Contains(queue))
                    {
                        problems.Add($"{app}: {name}: queue '{queue}' is not created in {account}");
                    }
                }
            }
        }

        return problems;
    }

    internal static JsonObject AppSettings(JsonObject main, string app) =>
        AccessModel.Deployment(main, $"app-{app}")["properties"]!["parameters"]!["appSettings"]!["value"]!.AsObject();

    /// <summary>A list a module is given: literal, a main.bicep variable, or an array of either.</summary>
    private static HashSet<string> Values(JsonNode? node, JsonObject mainVariables)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        void Add(JsonNode? n)
        {
            switch (n)
            {
                case JsonArray a:
                    foreach (var x in a)
                    {
                        Add(x);
                    }

                    break;
                case JsonValue v when v.TryGetValue(out string? s):
                    var m = Variable().Match(s);
                    if (m.Success)
                    {
                        Add(mainVariables[m.Groups[1].Value]);
                    }
                    else
                    {
                        values.Add(s);
                    }

                    break;
            }
        }

        Add(node);
        return values;
    }

    private static string? DeploymentOf(string? expression) =>
        expression is not null && DeploymentOutput().Match(expression) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex("%([A-Za-z0-9_:.]+)%")]
    private static partial Regex SettingReference();

    [GeneratedRegex(@"^\[variables\('([\w$#]+)'\)\]$")]
    private static partial Regex Variable();

    [GeneratedRegex(@"'Microsoft\.Resources/deployments', '(storage-[^']+)'\)")]
    private static partial Regex DeploymentOutput();
}

/// <summary>
/// Publishes src/Linkage.Functions once per test run. A machine-wide lock file keeps two test processes (this project's
/// and Linkage.Functions.Tests' publish) from building the project at once.
/// </summary>
public sealed class PublishedPackage : IDisposable
{
    private static readonly string LockFile = Path.Combine(Path.GetTempPath(), "linkage-publish.lock");

    public PublishedPackage()
    {
        Directory = Path.Combine(Path.GetTempPath(), "linkage-infra-publish-" + Guid.NewGuid().ToString("N"));
        var clock = Stopwatch.StartNew();
        using (Lock())
        {
            Publish(Path.Combine(Repository.Root, "src", "Linkage.Functions"), Directory);
        }

        PublishTime = clock.Elapsed;
        Metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, "functions.metadata")))!.AsArray();
        HostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, "host.json")))!.AsObject();
    }

    public string Directory { get; }

    public TimeSpan PublishTime { get; }

    public JsonArray Metadata { get; }

    public JsonObject HostJson { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static FileStream Lock()
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }

    private static void Publish(string project, string output)
    {
        var psi = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", output, "--nologo", "-nodeReuse:false"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        var log = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet publish did not finish in 8 minutes.");
        }

        log.Append(stdout.Result).Append(stderr.Result);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):{Environment.NewLine}{log}");
        }
    }
}
