using Linkage.Functions.Hosting;
using Linkage.Keys;
using Linkage.Ttp;

namespace Linkage.Functions.Tests.Hosting;

public class KeyZonePolicyTests
{
    private static IReadOnlySet<FunctionZone> Zones(string zones) => new ZoneOptions { Zones = zones }.EnabledZones;

    [Fact]
    public void A_tre_side_app_cannot_get_the_ttp_keys()
    {
        var tre = Zones("processor,provisioning");
        Assert.False(KeyRingProvider.IsAllowed(KeyPurposes.TtpPerson, tre));
        Assert.False(KeyRingProvider.IsAllowed(TtpFile1Processor.LinkKeyPurpose, tre));
        Assert.True(KeyRingProvider.IsAllowed(KeyPurposes.ProcessorId, tre));
        Assert.True(KeyRingProvider.IsAllowed(KeyPurposes.ProjectId("LLC_0001"), tre));
    }

    [Fact]
    public void The_ttp_app_cannot_get_tre_or_project_keys()
    {
        var ttp = Zones("ttp");
        Assert.True(KeyRingProvider.IsAllowed(KeyPurposes.TtpPerson, ttp));
        Assert.False(KeyRingProvider.IsAllowed(KeyPurposes.ProcessorId, ttp));
        Assert.False(KeyRingProvider.IsAllowed(KeyPurposes.TreGeography, ttp));
        Assert.False(KeyRingProvider.IsAllowed(KeyPurposes.ProjectGeography("LLC_0001"), ttp));
    }

    [Fact]
    public void The_processor_cannot_get_project_keys()
    {
        Assert.False(KeyRingProvider.IsAllowed(KeyPurposes.ProjectId("LLC_0001"), Zones("processor")));
    }
}
