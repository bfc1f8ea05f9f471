using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Linkage.DevStack;

/// <summary>
/// One Node server of the stack as a child process: started with <c>--parent-pid</c> of this process (its watchdog
/// exits when we are gone), probed over HTTP until it answers, stopped with SIGTERM (so it can save its state), then
/// killed if it does not exit in time.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private readonly Process _process;
    private readonly OutputTail _output = new(30);

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _output.Attach(process);
    }

    public string Name { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>node script args… --parent-pid PID</c> in <paramref name="workingDirectory"/>.</summary>
    public static ServerProcess Start(string name, string workingDirectory, string script, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(script);
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.ArgumentList.Add("--parent-pid");
        psi.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            var process = Process.Start(psi) ?? throw new LocalStackException($"Could not start the {name}.");
            return new ServerProcess(name, process);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new LocalStackException($"Could not start the {name}: 'node' was not found on PATH (Node.js 20 or later is needed).", ex);
        }
    }

    /// <summary>
    /// Waits until every probe URI answers with any HTTP status. Fails fast when the process exits, naming the
    /// server and quoting its last output lines.
    /// </summary>
    public async Task WaitUntilAnsweringAsync(IReadOnlyList<Uri> probes, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        foreach (var probe in probes)
        {
            while (!await AnswersAsync(http, probe, ct))
            {
                if (_process.HasExited)
                {
                    throw new ServerStartException(Name, $"The {Name} exited with code {_process.ExitCode} before it answered. Last output:{Environment.NewLine}{_output}", PortWasTaken);
                }

                if (deadline.Elapsed > timeout)
                {
                    throw new ServerStartException(Name, $"The {Name} did not answer {probe} within {timeout.TotalSeconds:0} s. Last output:{Environment.NewLine}{_output}", false);
                }

                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>True when the server's output says a port was already in use (worth retrying on other ports).</summary>
    public bool PortWasTaken => _output.Contains("EADDRINUSE");

    public static async Task<bool> AnswersAsync(HttpClient http, Uri uri, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(uri, ct);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return false; // the per-request timeout
        }
    }

    /// <summary>SIGTERM, wait up to 10 s, then kill the whole process tree.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                ProcessSignals.Terminate(_process);
                using var grace = new CancellationTokenSource(StopGrace);
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // the process was never started or already reaped
        }
        finally
        {
            _process.Dispose();
        }
    }
}

/// <summary>A server of the stack did not come up.</summary>
public sealed class ServerStartException(string server, string message, bool portWasTaken) : LocalStackException(message)
{
    public string Server { get; } = server;

    public bool PortWasTaken { get; } = portWasTaken;
}

/// <summary>Sends SIGTERM on Unix (Process.Kill sends SIGKILL, which would lose the stand-in's unsaved state).</summary>
public static partial class ProcessSignals
{
    private const int SigTerm = 15;

    public static void Terminate(Process process)
    {
        if (OperatingSystem.IsWindows() || Kill(process.Id, SigTerm) != 0)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>True while the process exists and is not a zombie (an orphan's zombie may linger unreaped in a container).</summary>
    public static bool IsAlive(int pid)
    {
        string stat = $"/proc/{pid}/stat";
        if (OperatingSystem.IsLinux())
        {
            try
            {
                string text = File.ReadAllText(stat);
                char state = text[(text.LastIndexOf(')') + 2)..].FirstOrDefault();
                return state is not ('Z' or 'X');
            }
            catch (IOException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
