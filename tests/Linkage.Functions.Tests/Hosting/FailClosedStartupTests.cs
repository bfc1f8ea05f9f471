using Linkage.Functions.Hosting;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Tests.Hosting;

/// <summary>
/// Outside Development the app refuses to start when a zone would fall back to the local file key or when no zone list
/// is set, and says which setting to set; Development keeps both fallbacks.
/// </summary>
[Collection(LocalStackCollection.Name)]
public sealed class FailClosedStartupTests(LocalStackFixture stack)
{
    private const string VaultUri = "https://linkage-test.vault.azure.net/"; // never contacted: the ring is made on first use

    [Fact]
    public async Task Production_without_a_Key_Vault_refuses_to_start_and_names_the_setting()
    {
        await using var app = App("Production", new() { ["Runtime:Zones"] = "ttp" });

        string message = Messages(Assert.ThrowsAny<Exception>(() => app.Services));
        Assert.Contains("Keys:VaultUri is not set", message, StringComparison.Ordinal);
        Assert.Contains("LocalKeyEncryptionKey", message, StringComparison.Ordinal);
        Assert.Contains("Keys__VaultUri", message, StringComparison.Ordinal);
        Assert.Contains("'Production'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_without_a_zone_list_refuses_to_start_and_names_the_setting()
    {
        await using var app = App("Production", new() { ["Keys:VaultUri"] = VaultUri });

        string message = Messages(Assert.ThrowsAny<Exception>(() => app.Services));
        Assert.Contains("Runtime:Zones is not set", message, StringComparison.Ordinal);
        Assert.Contains("Runtime__Zones", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Keys:VaultUri", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_with_neither_refuses_to_start()
    {
        await using var app = App("Production", []);

        // The local host reads the zones while it maps its functions, before the start-up validation, so the zone
        // message comes first here (the worker's start-up validation checks both). Either way the app does not start.
        string message = Messages(Assert.ThrowsAny<Exception>(() => app.Services));
        Assert.Contains("Runtime:Zones is not set", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_with_a_vault_and_zones_starts_with_only_those_zones()
    {
        await using var app = App("Production", new() { ["Keys:VaultUri"] = VaultUri, ["Runtime:Zones"] = "processor,provisioning" });

        var zones = app.Services.GetRequiredService<IOptions<ZoneOptions>>().Value.EnabledZones;
        Assert.Equal([FunctionZone.Processor, FunctionZone.Provisioning, FunctionZone.Platform], zones.Order());
    }

    [Fact]
    public async Task Development_keeps_the_local_key_and_runs_every_zone()
    {
        await using var app = App("Development", []);

        var zones = app.Services.GetRequiredService<IOptions<ZoneOptions>>().Value.EnabledZones;
        Assert.Equal([FunctionZone.Ttp, FunctionZone.Processor, FunctionZone.Provisioning, FunctionZone.Platform], zones.Order());
        using var cipher = await app.Services.GetRequiredService<KeyRingProvider>().GetCipherAsync(Linkage.Keys.KeyPurposes.ProcessorId, CancellationToken.None);
        Assert.NotNull(cipher.KeyVersion);
    }

    private FunctionAppFactory App(string environment, Dictionary<string, string?> settings)
    {
        settings["Cosmos:Database"] = LocalStackFixture.UniqueName("startup");
        return new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: settings) { EnvironmentName = environment };
    }

    /// <summary>Every message in the chain (ValidateOnStart may wrap several failures in one exception).</summary>
    private static string Messages(Exception e) => e switch
    {
        AggregateException a => string.Join(" | ", a.InnerExceptions.Select(Messages)),
        OptionsValidationException o => string.Join(" | ", o.Failures),
        _ when e.InnerException is { } inner => e.Message + " | " + Messages(inner),
        _ => e.Message,
    };
}

/// <summary>The key ring itself refuses the local key outside Development, in case a host skips start-up validation.</summary>
[Collection(LocalStackCollection.Name)]
public sealed class KeyRingEnvironmentTests(LocalStackFixture stack)
{
    [Theory]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    public async Task The_local_key_is_used_only_in_Development(string environment, bool allowed)
    {
        using var client = Linkage.Azure.Cosmos.CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        using var database = new Linkage.Azure.Cosmos.CosmosDatabase(client, LocalStackFixture.UniqueName("ring"));
        var host = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment };
        var keys = new KeysOptions { LocalFolder = Path.Combine(stack.Stack.DataDirectory, "local-keys") };
        using var provider = new KeyRingProvider(database, Options.Create(keys), Options.Create(new ZoneOptions { Zones = "processor" }), host, TimeProvider.System);

        var get = provider.GetCipherAsync(Linkage.Keys.KeyPurposes.ProcessorId, CancellationToken.None);
        if (allowed)
        {
            using var cipher = await get;
            Assert.NotNull(cipher.KeyVersion);
        }
        else
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => get);
            Assert.Contains("Keys:VaultUri is not set", e.Message, StringComparison.Ordinal);
        }
    }
}
