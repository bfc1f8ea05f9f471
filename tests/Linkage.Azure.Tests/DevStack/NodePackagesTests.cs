using Linkage.DevStack;

namespace Linkage.Azure.Tests.DevStack;

public class NodePackagesTests
{
    [Fact]
    public void The_pinned_versions_are_in_the_committed_lock_file()
    {
        string lockFile = File.ReadAllText(Path.Combine(RepositoryRoot.NodeToolsDirectory(), "package-lock.json"));

        Assert.Contains("\"azurite\": \"3.37.0\"", lockFile, StringComparison.Ordinal);
        Assert.Contains("\"@vercel/cosmosdb-server\": \"1.0.1\"", lockFile, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_a_complete_install_is_not_taken_as_installed()
    {
        string dir = Directory.CreateTempSubdirectory("linkage-npm-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "node_modules", "azurite"));

            Assert.False(NodePackages.AreInstalled(dir));
            Assert.True(NodePackages.AreInstalled(RepositoryRoot.NodeToolsDirectory()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
