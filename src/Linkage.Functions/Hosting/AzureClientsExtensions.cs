using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;

namespace Linkage.Functions.Hosting;

/// <summary>
/// The storage account the app's data lives in (section <c>DataStorage</c>), also the <c>Connection</c> of its blob and
/// queue triggers. Not named <c>Storage</c>: the Functions host resolves a connection named X as <c>AzureWebJobsX</c> first,
/// so "Storage" would silently mean the host's own account (<c>AzureWebJobsStorage</c>).
/// </summary>
public sealed class StorageOptions
{
    public const string SectionName = "DataStorage";

    /// <summary>A connection string (Azurite locally). When empty, the service URIs and a managed identity are used.</summary>
    public string? ConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }

    public Uri? QueueServiceUri { get; set; }

    /// <summary>
    /// The blob service of the account holding the processor's inbox from the TTP (<c>processor-from-ttp</c>), when it is
    /// not this account: in Azure the inbox lives in the TRE's account and the TTP app, whose own account holds the
    /// identifiers, writes to it there (managed identity, Blob Data Contributor on that container only). Empty: the inbox
    /// is a container of this account (the TRE app, and locally).
    /// </summary>
    public Uri? ProcessorInboxServiceUri { get; set; }
}

/// <summary>The processor's inbox from the TTP (<c>processor-from-ttp</c>), wherever <see cref="StorageOptions.ProcessorInboxServiceUri"/> puts it.</summary>
public sealed class ProcessorInbox(BlobContainerClient container)
{
    public BlobContainerClient Container { get; } = container;
}

public static class AzureClientsExtensions
{
    /// <summary>
    /// Registers Blob and Queue service clients through Microsoft.Extensions.Azure: a connection string when one is
    /// configured, otherwise the service URIs with <see cref="DefaultAzureCredential"/> (managed identity in Azure).
    /// Queue messages are Base64, as the Functions queue trigger expects.
    /// </summary>
    public static IHostApplicationBuilder AddLinkageAzureClients(this IHostApplicationBuilder builder)
    {
        var storage = builder.Configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName)
            .Validate(o => !string.IsNullOrEmpty(o.ConnectionString) || (o.BlobServiceUri is not null && o.QueueServiceUri is not null),
                "Set DataStorage:ConnectionString, or both DataStorage:BlobServiceUri and DataStorage:QueueServiceUri (managed identity).")
            .ValidateOnStart();

        builder.Services.AddAzureClients(clients =>
        {
            clients.UseCredential(new DefaultAzureCredential());
            if (!string.IsNullOrEmpty(storage.ConnectionString))
            {
                clients.AddBlobServiceClient(storage.ConnectionString);
                clients.AddQueueServiceClient(storage.ConnectionString).ConfigureOptions(o => o.MessageEncoding = QueueMessageEncoding.Base64);
            }
            else if (storage.BlobServiceUri is not null && storage.QueueServiceUri is not null)
            {
                clients.AddBlobServiceClient(storage.BlobServiceUri);
                clients.AddQueueServiceClient(storage.QueueServiceUri).ConfigureOptions(o => o.MessageEncoding = QueueMessageEncoding.Base64);
            }
        });
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value;
            var service = o.ProcessorInboxServiceUri is { } uri
                ? new BlobServiceClient(uri, new DefaultAzureCredential())
                : sp.GetRequiredService<BlobServiceClient>();
            return new ProcessorInbox(service.GetBlobContainerClient(Linkage.Ttp.TtpProcessorContract.Container));
        });
        return builder;
    }
}
