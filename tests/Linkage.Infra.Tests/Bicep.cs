using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Linkage.Infra.Tests;

/// <summary>The repository and the Bicep CLI of the Azure.Bicep.CommandLine package (offline: no registry modules are used).</summary>
internal static class Bicep
{
    private static readonly Lazy<JsonObject> Main = new(() => JsonNode.Parse(Build(Path.Combine(Repository.Infra, "main.bicep")))!.AsObject());

    public static string Executable { get; } =
        typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!
            .Replace('\\', Path.DirectorySeparatorChar);

    /// <summary>infra/main.bicep compiled to ARM JSON (a fresh copy each call, so tests may mutate it).</summary>
    public static JsonObject CompiledMain() => Main.Value.DeepClone().AsObject();

    /// <summary>Compiles a file to ARM JSON (stdout); throws with the diagnostics on any warning or error.</summary>
    public static string Build(string file)
    {
        var (exit, stdout, stderr) = Run("build", file, "--stdout");
        if (exit != 0 || stderr.Trim().Length > 0)
        {
            throw new InvalidOperationException($"bicep build {file} (exit {exit}):{Environment.NewLine}{stderr}");
        }

        return stdout;
    }

    /// <summary>bicep lint's diagnostics (empty: none) and exit code.</summary>
    public static (int Exit, string Diagnostics) Lint(string file)
    {
        var (exit, stdout, stderr) = Run("lint", file);
        return (exit, (stdout + stderr).Trim());
    }

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Executable, args)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["BICEP_TRACING_ENABLED"] = "false";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', args)} did not finish in 2 minutes.");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

internal static class Repository
{
    public static string Root { get; } = Find();

    public static string Infra => Path.Combine(Root, "infra");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Functions.sln not found above " + AppContext.BaseDirectory);
    }
}
