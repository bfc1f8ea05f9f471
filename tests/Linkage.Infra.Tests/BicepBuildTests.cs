namespace Linkage.Infra.Tests;

/// <summary>Every Bicep file builds and lints with no warning (infra/bicepconfig.json raises the rules that matter to errors).</summary>
public sealed class BicepBuildTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.EnumerateFiles(Repository.Infra, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Repository.Infra, f));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Builds_and_lints_without_a_warning(string file)
    {
        string path = Path.Combine(Repository.Infra, file);
        _ = Bicep.Build(path);
        var (exit, diagnostics) = Bicep.Lint(path);
        Assert.True(exit == 0 && diagnostics.Length == 0, $"bicep lint {file} (exit {exit}):{Environment.NewLine}{diagnostics}");
    }

    [Fact]
    public void The_infra_folder_has_the_azd_layout()
    {
        foreach (string f in new[] { "main.bicep", "main.parameters.json", "abbreviations.json", "bicepconfig.json", "app/function-zones.json" })
        {
            Assert.True(File.Exists(Path.Combine(Repository.Infra, f)), $"infra/{f} is missing.");
        }

        Assert.True(File.Exists(Path.Combine(Repository.Root, "azure.yaml")), "azure.yaml is missing.");
        Assert.True(Directory.EnumerateFiles(Repository.Infra, "*.bicep", SearchOption.AllDirectories).Count() >= 8, "Expected the modules under infra/core and infra/app.");
    }

    [Fact]
    public void Main_parameters_json_gives_every_required_parameter_and_no_unknown_one()
    {
        var declared = Bicep.CompiledMain()["parameters"]!.AsObject();
        var given = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Infra, "main.parameters.json")))!["parameters"]!.AsObject();
        foreach (var (name, p) in declared)
        {
            if (p?["defaultValue"] is null)
            {
                Assert.True(given.ContainsKey(name), $"main.parameters.json does not give the required parameter '{name}'.");
            }
        }

        foreach (var (name, _) in given)
        {
            Assert.True(declared.ContainsKey(name), $"main.parameters.json gives '{name}', which main.bicep does not declare.");
        }
    }

    [Fact]
    public void A_warning_fails_the_check()
    {
        string dir = Path.Combine(Path.GetTempPath(), "linkage-bicep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(Repository.Infra, "bicepconfig.json"), Path.Combine(dir, "bicepconfig.json"));
            string file = Path.Combine(dir, "bad.bicep");
            File.WriteAllText(file, "param unused string\n");
            Assert.ThrowsAny<InvalidOperationException>(() => Bicep.Build(file));
            Assert.NotEqual(0, Bicep.Lint(file).Exit);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
