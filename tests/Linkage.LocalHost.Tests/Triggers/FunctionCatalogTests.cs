using Linkage.Functions.Runtime;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Tests.Runtime;

public class FunctionCatalogTests
{
    [Fact]
    public void Only_functions_of_enabled_zones_run()
    {
        IFunction[] all =
        [
            new RecordingBlobFunction("c"), // Ttp
            new RecordingQueueFunction("q", false), // Processor
            new RecordingTimerFunction("0 0 * * * *"), // Platform: always on
        ];

        var ttpOnly = new FunctionCatalog(all, Options.Create(new FunctionRuntimeOptions { Zones = "ttp" }));
        Assert.Equal(["RecordingBlob", "RecordingTimer"], ttpOnly.Functions.Select(f => f.Definition.Name).Order());

        var treOnly = new FunctionCatalog(all, Options.Create(new FunctionRuntimeOptions { Zones = "processor, provisioning" }));
        Assert.Equal(["RecordingQueue", "RecordingTimer"], treOnly.Functions.Select(f => f.Definition.Name).Order());
        Assert.False(treOnly.TryGet("RecordingBlob", out _));
    }

    [Fact]
    public void Duplicate_names_are_refused()
    {
        IFunction[] twice = [new RecordingBlobFunction("a"), new RecordingBlobFunction("b")];
        Assert.Throws<InvalidOperationException>(() => new FunctionCatalog(twice, Options.Create(new FunctionRuntimeOptions())));
    }

    [Fact]
    public void Retry_delay_doubles_up_to_the_cap()
    {
        var o = new FunctionRuntimeOptions { RetryDelay = TimeSpan.FromSeconds(2), MaxRetryDelay = TimeSpan.FromSeconds(10) };
        Assert.Equal([2d, 4d, 8d, 10d], new[] { 1, 2, 3, 4 }.Select(n => o.RetryDelayFor(n).TotalSeconds));
    }
}
