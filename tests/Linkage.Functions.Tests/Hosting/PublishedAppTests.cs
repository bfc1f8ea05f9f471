using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Xunit.Abstractions;

namespace Linkage.Functions.Tests.Hosting;

/// <summary>`dotnet publish` makes a dotnet-isolated Functions app whose functions.metadata lists exactly the code's functions, with the code's triggers.</summary>
public sealed class PublishedAppTests(PublishedAppFixture app, ITestOutputHelper output) : IClassFixture<PublishedAppFixture>
{
    [Fact]
    public void The_output_is_a_dotnet_isolated_function_app()
    {
        output.WriteLine($"dotnet publish took {app.PublishTime.TotalSeconds:F1} s");
        foreach (string file in new[] { "functions.metadata", "worker.config.json", "extensions.json", "host.json" })
        {
            Assert.True(File.Exists(app.PathOf(file)), $"The published output has no {file}.");
        }

        Assert.True(Directory.Exists(app.PathOf(".azurefunctions")), "The published output has no .azurefunctions folder.");

        var worker = app.Json("worker.config.json")["description"];
        Assert.Equal("dotnet-isolated", Text(worker?["language"]));
        string workerPath = Text(worker?["defaultWorkerPath"]) ?? "";
        Assert.True(File.Exists(app.PathOf(workerPath)), $"worker.config.json's defaultWorkerPath '{workerPath}' is not in the published output.");

        var functions = app.Metadata;
        Assert.NotEmpty(functions);
        Assert.All(functions, f =>
        {
            string name = Text(f?["name"]) ?? "(no name)";
            Assert.True(Text(f?["language"]) == "dotnet-isolated", $"{name}: language is '{Text(f?["language"])}', not dotnet-isolated.");
            string script = Text(f?["scriptFile"]) ?? "";
            Assert.True(File.Exists(app.PathOf(script)), $"{name}: scriptFile '{script}' is not in the published output.");
        });
    }

    [Fact]
    public void Extensions_json_loads_the_storage_and_durable_extensions_from_the_output()
    {
        var extensions = app.Json("extensions.json")["extensions"]!.AsArray();
        var names = extensions.Select(e => Text(e?["name"])).ToList();
        Assert.Contains("AzureStorageBlobs", names);
        Assert.Contains("AzureStorageQueues", names);
        Assert.Contains("DurableTask", names);
        Assert.All(extensions, e =>
        {
            string hint = Text(e?["hintPath"]) ?? "";
            Assert.True(File.Exists(app.PathOf(hint)), $"Extension {Text(e?["name"])}: hintPath '{hint}' is not in the published output.");
        });
    }

    [Fact]
    public void Host_json_is_not_a_custom_handler_and_configures_durable_task()
    {
        var host = app.Json("host.json");
        Assert.Equal("2.0", Text(host["version"]));
        Assert.False(host.ContainsKey("customHandler"), "host.json still has a customHandler section.");
        Assert.True(host["extensions"]?["durableTask"] is JsonObject, "host.json has no extensions.durableTask section.");
    }

    [Fact]
    public void Functions_metadata_lists_exactly_the_functions_of_the_code_with_their_triggers()
    {
        var mismatches = MetadataCheck.Mismatches(FunctionCatalog.All, app.Metadata);
        Assert.True(mismatches.Count == 0, $"functions.metadata does not match the code:{Environment.NewLine}{string.Join(Environment.NewLine, mismatches)}");
    }

    [Fact]
    public void The_check_reports_metadata_that_is_stale_against_the_code()
    {
        var stale = app.Metadata.DeepClone().AsArray();
        var intake = Entry(stale, "File1Intake");
        Trigger(intake)["path"] = "old-inbox/{name}";
        var intakeBindings = intake["bindings"]!.AsArray();
        intakeBindings.Remove(intakeBindings.Single(b => Text(b?["type"]) == "durableClient"));
        Trigger(Entry(stale, "RedriveDelivery"))["methods"] = new JsonArray("get");
        Trigger(Entry(stale, "PurgeWorkflowHistory"))["type"] = "queueTrigger";
        Entry(stale, "Health")["bindings"]!.AsArray().Add(new JsonObject { ["name"] = "durable", ["direction"] = "In", ["type"] = "durableClient" });
        stale.Remove(Entry(stale, "Audit"));
        stale.Add(new JsonObject { ["name"] = "Removed", ["language"] = "dotnet-isolated", ["bindings"] = new JsonArray() });

        var mismatches = MetadataCheck.Mismatches(FunctionCatalog.All, stale);
        output.WriteLine(string.Join(Environment.NewLine, mismatches));

        Assert.Contains(mismatches, m => m.StartsWith("Audit: in the code but not in functions.metadata", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("Removed: in functions.metadata but not in the code", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("File1Intake: trigger path is 'old-inbox/{name}'", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("File1Intake: durableClient bindings", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("RedriveDelivery: trigger methods is 'get'", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("PurgeWorkflowHistory: trigger type is 'queueTrigger'", StringComparison.Ordinal));
        Assert.Contains(mismatches, m => m.StartsWith("Health: durableClient bindings", StringComparison.Ordinal));
    }

    private static JsonObject Entry(JsonArray metadata, string name) =>
        metadata.OfType<JsonObject>().Single(f => Text(f["name"]) == name);

    private static JsonObject Trigger(JsonObject entry) =>
        entry["bindings"]!.AsArray().OfType<JsonObject>().Single(b => Text(b["type"])?.EndsWith("Trigger", StringComparison.Ordinal) == true);

    private static string? Text(JsonNode? node) => node is JsonValue v ? v.ToString() : null;
}

/// <summary>Compares functions.metadata with the functions the code declares, and says every difference by function and field.</summary>
internal static class MetadataCheck
{
    /// <summary>The trigger fields compared; a field the attribute does not set must be absent from the metadata too.</summary>
    private static readonly string[] Fields = ["path", "connection", "queueName", "schedule", "route", "methods", "authLevel"];

    /// <summary>Fields whose values the host reads case-insensitively.</summary>
    private static readonly HashSet<string> CaseInsensitiveFields = new(["methods", "authLevel"], StringComparer.Ordinal);

    public static IReadOnlyList<string> Mismatches(IReadOnlyList<FunctionEntry> code, JsonArray metadata)
    {
        var problems = new List<string>();
        var entries = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var node in metadata)
        {
            if (node is not JsonObject entry || Text(entry["name"]) is not { Length: > 0 } name)
            {
                problems.Add($"functions.metadata has an entry without a name: {node?.ToJsonString()}");
                continue;
            }

            if (!entries.TryAdd(name, entry))
            {
                problems.Add($"{name}: listed more than once in functions.metadata.");
            }
        }

        var codeNames = code.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(code.Where(f => !entries.ContainsKey(f.Name)).Select(f => $"{f.Name}: in the code but not in functions.metadata (stale publish?)."));
        problems.AddRange(entries.Keys.Where(n => !codeNames.Contains(n)).Order(StringComparer.Ordinal).Select(n => $"{n}: in functions.metadata but not in the code."));

        foreach (var function in code)
        {
            if (entries.TryGetValue(function.Name, out var entry))
            {
                problems.AddRange(Compare(function, entry).Select(p => $"{function.Name}: {p}"));
            }
        }

        return problems;
    }

    private static IEnumerable<string> Compare(FunctionEntry function, JsonObject entry)
    {
        var method = function.Method;
        string entryPoint = $"{method.DeclaringType!.FullName}.{method.Name}";
        if (Text(entry["entryPoint"]) != entryPoint)
        {
            yield return $"entryPoint is '{Text(entry["entryPoint"])}', the code's method is '{entryPoint}'.";
        }

        string scriptFile = method.Module.Assembly.GetName().Name + ".dll";
        if (Text(entry["scriptFile"]) != scriptFile)
        {
            yield return $"scriptFile is '{Text(entry["scriptFile"])}', expected '{scriptFile}'.";
        }

        var bindings = (entry["bindings"] as JsonArray ?? []).OfType<JsonObject>().ToList();

        var triggers = method.GetParameters()
            .SelectMany(p => p.GetCustomAttributes<TriggerBindingAttribute>(inherit: false).Select(a => (Parameter: p, Attribute: a)))
            .ToList();
        var actualTriggers = bindings.Where(b => Text(b["type"])?.EndsWith("Trigger", StringComparison.Ordinal) == true).ToList();
        if (triggers.Count != 1)
        {
            yield return $"the method {entryPoint} has {triggers.Count} trigger parameters, not one.";
        }
        else if (actualTriggers.Count != 1)
        {
            yield return $"functions.metadata has {actualTriggers.Count} trigger bindings ({string.Join(", ", actualTriggers.Select(b => Text(b["type"])))}), not one.";
        }
        else
        {
            foreach (string problem in CompareTrigger(triggers[0].Parameter, triggers[0].Attribute, actualTriggers[0]))
            {
                yield return problem;
            }
        }

        var clients = method.GetParameters().Where(p => p.GetCustomAttribute<DurableClientAttribute>() is not null).Select(p => p.Name!).Order(StringComparer.Ordinal).ToList();
        var actualClients = bindings.Where(b => Text(b["type"]) == "durableClient").Select(b => Text(b["name"]) ?? "").Order(StringComparer.Ordinal).ToList();
        if (!clients.SequenceEqual(actualClients, StringComparer.Ordinal))
        {
            yield return $"durableClient bindings are [{string.Join(", ", actualClients)}], the code's [DurableClient] parameters are [{string.Join(", ", clients)}].";
        }
    }

    private static IEnumerable<string> CompareTrigger(ParameterInfo parameter, TriggerBindingAttribute attribute, JsonObject binding)
    {
        if (Expected(attribute) is not ({ } type, { } fields))
        {
            yield return $"its trigger [{attribute.GetType().Name}] is not one this test knows; teach {nameof(MetadataCheck)} its binding.";
            yield break;
        }

        if (Text(binding["type"]) != type)
        {
            yield return $"trigger type is '{Text(binding["type"])}', the code's [{attribute.GetType().Name}] is '{type}'.";
        }

        if (Text(binding["name"]) != parameter.Name)
        {
            yield return $"trigger binding name is '{Text(binding["name"])}', the code's parameter is '{parameter.Name}'.";
        }

        if (Text(binding["direction"]) != "In")
        {
            yield return $"trigger direction is '{Text(binding["direction"])}', not 'In'.";
        }

        foreach (string field in Fields)
        {
            string? expected = fields.GetValueOrDefault(field);
            string? actual = Value(binding[field]);
            var comparison = CaseInsensitiveFields.Contains(field) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (!string.Equals(expected, actual, comparison))
            {
                yield return $"trigger {field} is {Show(actual)}, the code's [{attribute.GetType().Name}] has {Show(expected)}.";
            }
        }
    }

    /// <summary>The binding type a trigger attribute makes, and the fields it writes (a null value: not set, so absent).</summary>
    private static (string Type, Dictionary<string, string?> Fields)? Expected(TriggerBindingAttribute attribute) => attribute switch
    {
        BlobTriggerAttribute b => ("blobTrigger", new() { ["path"] = b.BlobPath, ["connection"] = b.Connection }),
        QueueTriggerAttribute q => ("queueTrigger", new() { ["queueName"] = q.QueueName, ["connection"] = q.Connection }),
        TimerTriggerAttribute t => ("timerTrigger", new() { ["schedule"] = t.Schedule }),
        HttpTriggerAttribute h => ("httpTrigger", new()
        {
            ["route"] = h.Route,
            ["methods"] = h.Methods is { } methods ? Join(methods) : null,
            ["authLevel"] = h.AuthLevel.ToString(),
        }),
        OrchestrationTriggerAttribute => ("orchestrationTrigger", []),
        ActivityTriggerAttribute => ("activityTrigger", []),
        _ => null,
    };

    /// <summary>A metadata field as text: an array (methods) as its sorted, lower-case items joined by commas.</summary>
    private static string? Value(JsonNode? node) => node switch
    {
        JsonArray items => Join(items.Select(i => i?.ToString() ?? "")),
        JsonValue v when v.GetValueKind() != JsonValueKind.Null => v.ToString(),
        _ => null,
    };

    private static string Join(IEnumerable<string> items) =>
        string.Join(",", items.Select(i => i.ToLowerInvariant()).Order(StringComparer.Ordinal));

    private static string Show(string? value) => value is null ? "absent" : $"'{value}'";

    private static string? Text(JsonNode? node) => node is JsonValue v ? v.ToString() : null;
}

/// <summary>
/// The app as `dotnet publish -c Release` lays it out, in a temporary folder deleted with the fixture. Publishing runs
/// after the test build finished, so it is incremental and writes the app's obj/ alone.
/// </summary>
public sealed class PublishedAppFixture : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);
    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public PublishedAppFixture()
    {
        OutputDirectory = Path.Combine(Path.GetTempPath(), "linkage-publish-" + Guid.NewGuid().ToString("N"));
        string project = Path.Combine(Linkage.DevStack.RepositoryRoot.Find(), "src", "Linkage.Functions");
        var clock = Stopwatch.StartNew();
        using (PublishLock())
        {
            Publish(project, OutputDirectory);
        }

        PublishTime = clock.Elapsed;
        Metadata = JsonNode.Parse(File.ReadAllText(PathOf("functions.metadata")))!.AsArray();
    }

    /// <summary>The published output.</summary>
    public string OutputDirectory { get; }

    public TimeSpan PublishTime { get; }

    /// <summary>functions.metadata as published.</summary>
    public JsonArray Metadata { get; }

    public string PathOf(string relative) => Path.Combine(OutputDirectory, relative);

    /// <summary>A JSON object file of the output (comments and trailing commas allowed, as the host allows them).</summary>
    public JsonObject Json(string relative) =>
        JsonNode.Parse(File.ReadAllText(PathOf(relative)), documentOptions: Lenient)!.AsObject();

    public void Dispose()
    {
        try
        {
            Directory.Delete(OutputDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is not worth failing a test run for.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Machine-wide (the same file as tests/Linkage.Infra.Tests' publish): two test processes publishing the project at
    /// once would build into the same obj folder.
    /// </summary>
    private static FileStream PublishLock()
    {
        string path = Path.Combine(Path.GetTempPath(), "linkage-publish.lock");
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }

    private static void Publish(string project, string outputDirectory)
    {
        var psi = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", outputDirectory, "--nologo", "-nodeReuse:false"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = project,
        };
        var log = new StringBuilder();
        void Keep(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start dotnet publish.");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(PublishTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"dotnet publish {project} did not finish within {PublishTimeout}:{Environment.NewLine}{Tail(log)}");
        }

        process.WaitForExit(); // drains the redirected output
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed with exit code {process.ExitCode}:{Environment.NewLine}{Tail(log)}");
        }
    }

    private static string Tail(StringBuilder log)
    {
        const int Keep = 20_000;
        lock (log)
        {
            return log.Length <= Keep ? log.ToString() : "…" + log.ToString(log.Length - Keep, Keep);
        }
    }
}
