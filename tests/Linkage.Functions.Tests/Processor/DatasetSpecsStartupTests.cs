using Linkage.File2;
using Linkage.Functions.Tests.Infrastructure;

namespace Linkage.Functions.Tests.Processor;

/// <summary>A bad dataset spec stops the app at start-up with every problem listed, before any File 2 arrives.</summary>
[Collection(LocalStackCollection.Name)]
public sealed class DatasetSpecsStartupTests(LocalStackFixture stack) : IDisposable
{
    private readonly string _specs = Directory.CreateTempSubdirectory("linkage-specs-").FullName;

    public void Dispose() => Directory.Delete(_specs, recursive: true);

    [Fact]
    public void The_app_refuses_to_start_with_a_bad_spec_and_says_what_to_fix()
    {
        File.WriteAllText(Path.Combine(_specs, "broken.json"), """{ "datasetId": "broken", "columns": [ { "name": "x", "rule": "sometimes" } ] }""");
        using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["File2:SpecsFolder"] = _specs });

        var e = Assert.ThrowsAny<Exception>(() => app.Services);
        var specError = e as DatasetSpecException ?? e.InnerException as DatasetSpecException ?? Assert.IsType<DatasetSpecException>(e.GetBaseException());
        Assert.True(specError.Problems.Count >= 2);
        Assert.All(specError.Problems, p => Assert.Equal("broken.json", p.File));
        Assert.Contains(specError.Problems, p => p.JsonPath.Contains("rule", StringComparison.Ordinal));
        Assert.All(specError.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Fix)));
    }

    [Fact]
    public void The_shipped_specs_load()
    {
        using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var specs = (Linkage.Functions.Processor.DatasetSpecs)app.Services.GetService(typeof(Linkage.Functions.Processor.DatasetSpecs))!;
        Assert.Contains(specs.All, s => s.DatasetId == "nhse_lsoa11_dataset_mapping");
        Assert.Contains(specs.All, s => s.DatasetId == "nhse_hes_apc");
    }
}
