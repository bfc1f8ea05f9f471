namespace Linkage.DevStack;

/// <summary>How <see cref="LocalStack.StartAsync"/> starts (or finds) the local Azure stack.</summary>
public sealed class LocalStackOptions
{
    /// <summary>
    /// Where Azurite and the Cosmos stand-in keep their data. Null: a fresh temporary folder, deleted on dispose
    /// unless <see cref="Persistent"/> is set.
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>Keep the data folder and let the Cosmos stand-in save and reload its state there.</summary>
    public bool Persistent { get; init; }

    /// <summary>Attach to a stack already started by <c>Linkage.DevStack up</c> (found through <see cref="StackFile"/>).</summary>
    public bool ReuseRunning { get; init; }

    /// <summary>The file that describes a running stack. Null: <c>.devstack/stack.json</c> under the repository root.</summary>
    public string? StackFile { get; init; }

    /// <summary>How long each server may take to answer its first request.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Options for tests: a throw-away stack, or the developer's running one when LINKAGE_DEVSTACK_REUSE=1.</summary>
    public static LocalStackOptions ForTests() => new()
    {
        ReuseRunning = Environment.GetEnvironmentVariable("LINKAGE_DEVSTACK_REUSE") == "1",
    };

    /// <summary>Options for the developer's long-running stack under <c>.devstack/</c> (or <paramref name="stateDirectory"/>).</summary>
    public static LocalStackOptions ForLocalRun(string? stateDirectory = null)
    {
        string dir = stateDirectory ?? Path.Combine(RepositoryRoot.Find(), ".devstack");
        return new LocalStackOptions
        {
            DataDirectory = Path.Combine(dir, "data"),
            StackFile = Path.Combine(dir, "stack.json"),
            Persistent = true,
        };
    }
}
