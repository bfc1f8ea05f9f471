using Linkage.Functions.Processor;
using Linkage.Functions.Ttp;

namespace Linkage.Infra.Tests;

/// <summary>
/// docs/deploy.md's access table is generated from the compiled template (LINKAGE_UPDATE_DEPLOY_DOC=1 rewrites it), and
/// the storage containers main.bicep creates are the ones the code names.
/// </summary>
public sealed class DeployDocTests
{
    private const string Begin = "<!-- access-table:begin (generated from infra/main.bicep by tests/Linkage.Infra.Tests; LINKAGE_UPDATE_DEPLOY_DOC=1 rewrites it) -->";
    private const string End = "<!-- access-table:end -->";

    [Fact]
    public void The_access_table_of_deploy_md_is_the_templates()
    {
        string path = Path.Combine(Repository.Root, "docs", "deploy.md");
        string doc = File.ReadAllText(path).ReplaceLineEndings("\n");
        int begin = doc.IndexOf(Begin, StringComparison.Ordinal);
        int end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"docs/deploy.md has no access table between '{Begin}' and '{End}'.");

        string table = AccessModel.Table(Bicep.CompiledMain());
        string current = doc[(begin + Begin.Length)..end].Trim('\n') + "\n";
        if (current != table && Environment.GetEnvironmentVariable("LINKAGE_UPDATE_DEPLOY_DOC") == "1")
        {
            File.WriteAllText(path, doc[..(begin + Begin.Length)] + "\n" + table + doc[end..]);
            return;
        }

        Assert.True(current == table, $"docs/deploy.md's access table is stale; run the test with LINKAGE_UPDATE_DEPLOY_DOC=1. The template says:\n{table}");
    }

    [Fact]
    public void The_storage_accounts_hold_the_containers_the_code_names()
    {
        var main = Bicep.CompiledMain();
        var variables = main["variables"]!;
        var ttp = variables["ttpContainers"]!.AsArray().Select(n => (string)n!).ToHashSet(StringComparer.Ordinal);
        var tre = variables["treContainers"]!.AsArray().Select(n => (string)n!).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(TtpStorage.TtpContainers.ToHashSet(StringComparer.Ordinal), ttp);
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal)
        {
            ProcessorStorage.File2Inbox, ProcessorStorage.File2Quarantine, ProcessorStorage.File2Archive, ProcessorStorage.ProviderReports,
            ProcessorStorage.Curated, TtpStorage.ProcessorInbox, Linkage.Functions.Provisioning.ProjectProvisioner.CohortContainer,
        }, tre);
        Assert.DoesNotContain(tre, c => c.StartsWith("ttp-", StringComparison.Ordinal));
        Assert.DoesNotContain(TtpStorage.ProcessorInbox, ttp);
    }
}
