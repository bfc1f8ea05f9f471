using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Ttp;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>Blob chores the intake tests share: upload a local file, read a "container/blob" path, list names.</summary>
internal static class BlobTestExtensions
{
    /// <summary>Uploads text (creating the container); returns the blob and that version's ETag, as a trigger hands them over.</summary>
    public static async Task<(BlobClient Blob, ETag ETag)> PutTextAsync(this BlobServiceClient blobs, string container, string name, string content)
    {
        var c = blobs.GetBlobContainerClient(container);
        await c.CreateIfNotExistsAsync();
        var blob = c.GetBlobClient(name);
        var uploaded = await blob.UploadAsync(BinaryData.FromString(content), overwrite: true);
        return (blob, uploaded.Value.ETag);
    }

    /// <summary>Delivers a File 1 to the inbox as <c>STUDY/file name</c> and runs the intake on it, as the Functions host would.</summary>
    public static async Task<File1IntakeResult> DeliverAsync(this File1IntakeService intake, BlobServiceClient blobs, string name, string content)
    {
        var (blob, etag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, name, content);
        return await intake.ProcessAsync(blob, etag, CancellationToken.None);
    }

    public static async Task UploadFileAsync(this BlobServiceClient blobs, string container, string name, string path)
    {
        var c = blobs.GetBlobContainerClient(container);
        await c.CreateIfNotExistsAsync();
        await c.GetBlobClient(name).UploadAsync(path, overwrite: true);
    }

    /// <summary>The text of a blob named <c>container/blob name</c>, or null while it does not exist (e.g. a note that trails a state change).</summary>
    public static async Task<string?> TryDownloadTextAsync(this BlobServiceClient blobs, string path)
    {
        try
        {
            return await blobs.DownloadTextAsync(path);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The text of a blob named as the intakes record outputs: <c>container/blob name</c>.</summary>
    public static async Task<string> DownloadTextAsync(this BlobServiceClient blobs, string path)
    {
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        return (await blobs.GetBlobContainerClient(path[..slash]).GetBlobClient(path[(slash + 1)..]).DownloadContentAsync()).Value.Content.ToString();
    }

    public static async Task<string[]> ReadLinesAsync(this BlobServiceClient blobs, string path) =>
        (await blobs.DownloadTextAsync(path)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Blob names in a container; empty when the container does not exist.</summary>
    public static async Task<List<string>> ListNamesAsync(this BlobContainerClient container)
    {
        var names = new List<string>();
        if (!await container.ExistsAsync())
        {
            return names;
        }

        await foreach (var b in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, CancellationToken.None))
        {
            names.Add(b.Name);
        }

        return names;
    }
}
