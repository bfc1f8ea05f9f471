using Linkage.LocalHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Linkage.Functions.Tests.LocalHost;

public sealed class LocalSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("linkage-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Values_become_configuration_with_double_underscore_sections_and_the_environment_wins()
    {
        File.WriteAllText(Path.Combine(_dir, "local.settings.json"), """
        { "IsEncrypted": false, "Values": {
            "//Cosmos__Database": "a description, ignored",
            "Cosmos__Database": "fromfile",
            "File2__SpecsFolder": "",
            "Runtime__Zones": "ttp",
            "LINKAGE_TEST_OVERRIDE": "fromfile" } }
        """);
        Environment.SetEnvironmentVariable("LINKAGE_TEST_OVERRIDE", "fromenv");
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir });
            builder.AddLocalSettings();
            Assert.Equal("fromfile", builder.Configuration["Cosmos:Database"]);
            Assert.Equal("ttp", builder.Configuration["Runtime:Zones"]);
            Assert.Null(builder.Configuration["File2:SpecsFolder"]);
            Assert.Null(builder.Configuration["//Cosmos:Database"]);
            Assert.Equal("fromenv", builder.Configuration["LINKAGE_TEST_OVERRIDE"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LINKAGE_TEST_OVERRIDE", null);
        }
    }

    [Fact]
    public void The_sample_settings_file_is_valid_and_loads()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Functions.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        File.Copy(Path.Combine(root, "local.settings.sample.json"), Path.Combine(_dir, "local.settings.json"));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir });
        builder.AddLocalSettings();
        Assert.Equal("linkage", builder.Configuration["Cosmos:Database"]);
        Assert.Equal("5", builder.Configuration["Runtime:MaxAttempts"]);
        Assert.Null(builder.Configuration["DataStorage:ConnectionString"]);
    }
}
