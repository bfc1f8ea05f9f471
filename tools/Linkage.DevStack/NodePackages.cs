using System.Diagnostics;

namespace Linkage.DevStack;

/// <summary>
/// Makes sure tools/devstack/node_modules holds the versions pinned by the committed package-lock.json, running
/// <c>npm ci</c> when it does not. Several test processes may start at once, so the install runs under a file lock.
/// </summary>
public static class NodePackages
{
    private static readonly string[] RequiredFiles =
    [
        Path.Combine("node_modules", ".package-lock.json"),
        Path.Combine("node_modules", "azurite", "dist", "src", "azurite.js"),
        Path.Combine("node_modules", "@vercel", "cosmosdb-server", "lib", "index.js"),
    ];

    public static bool AreInstalled(string nodeToolsDirectory) =>
        RequiredFiles.All(f => File.Exists(Path.Combine(nodeToolsDirectory, f)));

    public static async Task EnsureInstalledAsync(string nodeToolsDirectory, CancellationToken ct)
    {
        if (AreInstalled(nodeToolsDirectory))
        {
            return;
        }

        await using var installLock = await AcquireLockAsync(ct);
        if (AreInstalled(nodeToolsDirectory))
        {
            return; // another process installed them while we waited
        }

        var output = new OutputTail(40);
        var psi = new ProcessStartInfo("npm")
        {
            WorkingDirectory = nodeToolsDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var npm = StartOrExplain(psi);
        output.Attach(npm);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        try
        {
            await npm.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            npm.Kill(entireProcessTree: true);
            throw;
        }

        if (npm.ExitCode != 0 || !AreInstalled(nodeToolsDirectory))
        {
            throw new LocalStackException(
                $"'npm ci' in {nodeToolsDirectory} failed with exit code {npm.ExitCode}. Last output:{Environment.NewLine}{output}");
        }
    }

    private static Process StartOrExplain(ProcessStartInfo psi)
    {
        try
        {
            return Process.Start(psi) ?? throw new LocalStackException($"Could not start '{psi.FileName}'.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new LocalStackException($"'{psi.FileName}' was not found on PATH: the local stack needs Node.js 20 or later with npm.", ex);
        }
    }

    private static async Task<FileStream> AcquireLockAsync(CancellationToken ct)
    {
        string path = Path.Combine(Path.GetTempPath(), "linkage-devstack-npm-ci.lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(11);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
            }
        }
    }
}
