using Azure.Storage.Blobs.Models;
using Linkage.Azure.Tests.Infrastructure;

namespace Linkage.Azure.Tests.DevStack;

/// <summary>Blob and queue storage on the shared stack's Azurite, through the real Azure SDK clients.</summary>
[Collection(LocalStackCollection.Name)]
public class AzuriteTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Blob_upload_download_and_list()
    {
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("inbox"));
        await container.CreateAsync();
        byte[] content = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(content);

        await container.GetBlobClient("q1/file-a.bin").UploadAsync(new MemoryStream(content));
        await container.GetBlobClient("q1/file-b.txt").UploadAsync(BinaryData.FromString("second"));
        await container.GetBlobClient("q2/file-c.txt").UploadAsync(BinaryData.FromString("other folder"));

        var downloaded = new MemoryStream();
        await container.GetBlobClient("q1/file-a.bin").DownloadToAsync(downloaded);
        var names = new List<string>();
        await foreach (BlobItem item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "q1/", CancellationToken.None))
        {
            names.Add(item.Name);
        }

        Assert.Equal(content, downloaded.ToArray());
        Assert.Equal(["q1/file-a.bin", "q1/file-b.txt"], names);
    }

    [Fact]
    public async Task Queue_send_receive_and_delete()
    {
        var queue = stack.CreateQueueServiceClient().GetQueueClient(LocalStackFixture.UniqueName("work"));
        await queue.CreateAsync();

        await queue.SendMessageAsync("{\"job\":1}");
        await queue.SendMessageAsync("{\"job\":2}");
        var received = (await queue.ReceiveMessagesAsync(maxMessages: 10)).Value;
        foreach (var message in received)
        {
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }

        Assert.Equal(["{\"job\":1}", "{\"job\":2}"], received.Select(m => m.Body.ToString()).Order());
        Assert.Empty((await queue.PeekMessagesAsync(10)).Value);
    }

    [Fact]
    public async Task Connection_string_names_all_three_services_and_the_table_endpoint_answers()
    {
        string cs = stack.Stack.StorageConnectionString;
        using var http = new HttpClient();

        using var tables = await http.GetAsync(new Uri(stack.Stack.TableServiceUri + "/Tables"));

        Assert.Contains($"BlobEndpoint={stack.Stack.BlobServiceUri}", cs, StringComparison.Ordinal);
        Assert.Contains($"QueueEndpoint={stack.Stack.QueueServiceUri}", cs, StringComparison.Ordinal);
        Assert.Contains($"TableEndpoint={stack.Stack.TableServiceUri}", cs, StringComparison.Ordinal);
        Assert.StartsWith("Azurite-Table", tables.Headers.Server.ToString(), StringComparison.Ordinal);
    }
}
