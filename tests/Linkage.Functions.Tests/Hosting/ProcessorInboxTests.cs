using Linkage.Functions.Hosting;
using Linkage.Ttp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Linkage.Functions.Tests.Hosting;

/// <summary>
/// In Azure the processor's inbox (processor-from-ttp) is a container of the TRE's account, not of the TTP's identifier
/// account: <c>DataStorage:ProcessorInboxServiceUri</c> points the TTP app there (infra/main.bicep sets it).
/// </summary>
public sealed class ProcessorInboxTests
{
    [Fact]
    public void With_a_processor_inbox_service_uri_the_inbox_is_in_that_account()
    {
        using var host = Host(new()
        {
            ["DataStorage:BlobServiceUri"] = "https://stttp.blob.core.windows.net",
            ["DataStorage:QueueServiceUri"] = "https://stttp.queue.core.windows.net",
            ["DataStorage:ProcessorInboxServiceUri"] = "https://sttre.blob.core.windows.net",
        });

        var inbox = host.Services.GetRequiredService<ProcessorInbox>().Container;
        Assert.Equal("sttre.blob.core.windows.net", inbox.Uri.Host);
        Assert.Equal(TtpProcessorContract.Container, inbox.Name);
    }

    [Fact]
    public void Without_it_the_inbox_is_a_container_of_the_data_account()
    {
        using var host = Host(new()
        {
            ["DataStorage:BlobServiceUri"] = "https://sttre.blob.core.windows.net",
            ["DataStorage:QueueServiceUri"] = "https://sttre.queue.core.windows.net",
        });

        var inbox = host.Services.GetRequiredService<ProcessorInbox>().Container;
        Assert.Equal("sttre.blob.core.windows.net", inbox.Uri.Host);
        Assert.Equal(TtpProcessorContract.Container, inbox.Name);
    }

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddLinkageAzureClients();
        return builder.Build();
    }
}
