namespace Linkage.DevStack;

/// <summary>Finds the repository root (the folder holding <c>Functions.sln</c>) and the Node dev-stack folder in it.</summary>
public static class RepositoryRoot
{
    private const string Marker = "Functions.sln";

    public static string Find()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, Marker)))
                {
                    return dir.FullName;
                }
            }
        }

        throw new LocalStackException($"Cannot find the repository root: no {Marker} above {AppContext.BaseDirectory} or the current directory.");
    }

    /// <summary>tools/devstack: package.json, the lock file and the Node scripts.</summary>
    public static string NodeToolsDirectory() => Path.Combine(Find(), "tools", "devstack");
}
