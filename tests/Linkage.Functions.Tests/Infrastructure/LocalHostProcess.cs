using System.Collections.Concurrent;
using System.Diagnostics;
using Linkage.DevStack;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// The local host as a process of its own (the Release or Debug build beside this test's), so a test can kill it as a
/// crash would (SIGKILL: no shutdown code runs) and start it again on the same storage and task hub.
/// </summary>
internal sealed class LocalHostProcess : IDisposable
{
    private readonly Process _process;

    private LocalHostProcess(Process process, ConcurrentQueue<string> output, string baseUrl)
    {
        _process = process;
        Output = output;
        BaseUrl = baseUrl;
    }

    /// <summary>Where its HTTP functions answer, e.g. http://127.0.0.1:41234 (then /api/…).</summary>
    public string BaseUrl { get; }

    /// <summary>Everything the process wrote, stdout and stderr.</summary>
    public ConcurrentQueue<string> Output { get; }

    public bool HasExited => _process.HasExited;

    public static LocalHostProcess Start(LocalStack stack, IReadOnlyDictionary<string, string> settings, ConcurrentQueue<string>? output = null)
    {
        output ??= new ConcurrentQueue<string>();
        var psi = new ProcessStartInfo("dotnet", [LocalHostDll()])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (k, v) in stack.EnvironmentVariables())
        {
            psi.Environment[k] = v;
        }

        psi.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development";
        string baseUrl = $"http://127.0.0.1:{FreePorts.Take(1)[0]}";
        psi.Environment["ASPNETCORE_URLS"] = baseUrl;
        psi.Environment["Keys__LocalFolder"] = Path.Combine(stack.DataDirectory, "local-keys");
        psi.Environment["Api__DevelopmentKeyFolder"] = FunctionAppFactory.DevTokenFolder(stack);
        psi.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (k, v) in settings)
        {
            psi.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the local host.");
        process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new LocalHostProcess(process, output, baseUrl);
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
        }
    }

    /// <summary>Kills the process as a crash would: no shutdown, no lease released, work items left in flight.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>tools/Linkage.LocalHost/bin/&lt;configuration&gt;/net10.0/Linkage.LocalHost.dll, for this test build's configuration.</summary>
    private static string LocalHostDll()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<configuration>/net10.0/
        string dll = Path.Combine(RepositoryRoot.Find(), "tools", "Linkage.LocalHost", "bin", configuration, "net10.0", "Linkage.LocalHost.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the local host first (dotnet build Functions.sln).", dll);
    }
}
