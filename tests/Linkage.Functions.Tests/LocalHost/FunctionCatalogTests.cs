using Linkage.Functions.Hosting;
using Linkage.LocalHost;
using Microsoft.Extensions.Configuration;

namespace Linkage.Functions.Tests.LocalHost;

/// <summary>The app's functions as their attributes declare them, and which of them a deployment of some zones runs.</summary>
public class FunctionCatalogTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Every_function_has_a_unique_name_and_the_intakes_sit_in_their_zones()
    {
        var all = FunctionCatalog.All;
        Assert.Equal(all.Count, all.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(FunctionZone.Ttp, FunctionCatalog.Find("File1Intake")!.Zone);
        Assert.Equal(FunctionZone.Processor, FunctionCatalog.Find("File2Intake")!.Zone);
        Assert.Equal(FunctionZone.Platform, FunctionCatalog.Find("Health")!.Zone);
    }

    [Fact]
    public void The_local_host_runs_only_functions_of_enabled_zones()
    {
        var ttp = LocalHostExtensions.EnabledFunctions(typeof(FunctionCatalog).Assembly, new ZoneOptions { Zones = "ttp" }, Config()).Select(f => f.Name).ToList();
        Assert.Contains("File1Intake", ttp);
        Assert.DoesNotContain("File2Intake", ttp);
        Assert.Contains("DeliveryOrchestration", ttp); // platform: in every app

        var tre = LocalHostExtensions.EnabledFunctions(typeof(FunctionCatalog).Assembly, new ZoneOptions { Zones = "processor, provisioning" }, Config()).Select(f => f.Name).ToList();
        Assert.Contains("File2Intake", tre);
        Assert.DoesNotContain("File1Intake", tre);
    }

    [Fact]
    public void An_AzureWebJobs_Disabled_setting_switches_a_function_off_locally_too()
    {
        var enabled = LocalHostExtensions.EnabledFunctions(typeof(FunctionCatalog).Assembly, new ZoneOptions { Zones = ZoneOptions.DevelopmentDefault }, Config(("AzureWebJobs.PurgeWorkflowHistory.Disabled", "true"))).Select(f => f.Name).ToList();
        Assert.DoesNotContain("PurgeWorkflowHistory", enabled);
        Assert.Contains("Health", enabled);
    }

    [Fact]
    public void A_ttp_deployment_disables_every_function_of_the_tre_zones_and_none_of_its_own()
    {
        var settings = FunctionCatalog.DisabledSettings(new ZoneOptions { Zones = "ttp" }.EnabledZones);
        Assert.Equal("true", settings["AzureWebJobs.File2Intake.Disabled"]);
        Assert.DoesNotContain("AzureWebJobs.File1Intake.Disabled", settings.Keys);
        Assert.DoesNotContain("AzureWebJobs.Health.Disabled", settings.Keys);
        Assert.All(settings.Keys, k => Assert.NotEqual(FunctionZone.Ttp, FunctionCatalog.Find(k.Split('.')[1])!.Zone));
    }

    [Fact]
    public void An_unknown_zone_is_refused() =>
        Assert.ThrowsAny<ArgumentException>(() => new ZoneOptions { Zones = "ttp,tre" }.EnabledZones);

    [Fact]
    public void Retry_delay_doubles_up_to_the_cap()
    {
        var o = new LocalHostOptions { RetryDelay = TimeSpan.FromSeconds(2), MaxRetryDelay = TimeSpan.FromSeconds(10) };
        Assert.Equal([2d, 4d, 8d, 10d], new[] { 1, 2, 3, 4 }.Select(n => o.RetryDelayFor(n).TotalSeconds));
    }
}

/// <summary>
/// infra/app/function-zones.json — the <c>AzureWebJobs.&lt;Function&gt;.Disabled</c> settings of each deployment, which the
/// infrastructure loads — is derived from the code's <c>[Zone]</c> attributes and must match them. Regenerate it with
/// <c>LINKAGE_UPDATE_ZONES=1 ./test.sh --filter FunctionZonesFile</c>.
/// </summary>
public class FunctionZonesFileTests
{
    [Fact]
    public void The_deployments_zone_settings_match_the_code()
    {
        var expected = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["//"] = "Generated from the [Zone] attributes of the functions by FunctionZonesFileTests; do not edit by hand.",
            ["ttp"] = new SortedDictionary<string, string>(FunctionCatalog.DisabledSettings(new ZoneOptions { Zones = "ttp" }.EnabledZones).ToDictionary(), StringComparer.Ordinal),
            ["tre"] = new SortedDictionary<string, string>(FunctionCatalog.DisabledSettings(new ZoneOptions { Zones = "processor,provisioning" }.EnabledZones).ToDictionary(), StringComparer.Ordinal),
        };
        string json = System.Text.Json.JsonSerializer.Serialize(expected, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
        string path = Path.Combine(Linkage.DevStack.RepositoryRoot.Find(), "infra", "app", "function-zones.json");
        if (Environment.GetEnvironmentVariable("LINKAGE_UPDATE_ZONES") == "1")
        {
            File.WriteAllText(path, json);
        }

        Assert.True(File.Exists(path), $"{path} is missing; regenerate it (see this test's summary).");
        Assert.True(json == File.ReadAllText(path), $"{path} is stale: a function or its zone changed. Regenerate it with LINKAGE_UPDATE_ZONES=1 ./test.sh --filter FunctionZonesFile");
    }
}
