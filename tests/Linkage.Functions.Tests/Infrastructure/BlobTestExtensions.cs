using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>Blob chores the intake tests share: upload a local file, read a "container/blob" path, list names.</summary>
internal static class BlobTestExtensions
{
    public static async Task UploadFileAsync(this BlobServiceClient blobs, string container, string name, string path)
    {
        var c = blobs.GetBlobContainerClient(container);
        await c.CreateIfNotExistsAsync();
        await c.GetBlobClient(name).UploadAsync(path, overwrite: true);
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
