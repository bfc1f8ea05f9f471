using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Storage;
using Linkage.Azure.Tests.Infrastructure;

namespace Linkage.Azure.Tests.Storage;

/// <summary>The read-ahead reader and the parallel block writer, against Azurite.</summary>
[Collection(LocalStackCollection.Name)]
public class BlobStreamsTests(LocalStackFixture stack)
{
    private async Task<BlobContainerClient> ContainerAsync()
    {
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("streams"));
        await container.CreateAsync();
        return container;
    }

    private static byte[] Content(int length, int seed)
    {
        byte[] content = new byte[length];
        new Random(seed).NextBytes(content);
        return content;
    }

    [Theory]
    [InlineData(0, 1000, 3, 4096)]
    [InlineData(1, 1000, 3, 4096)]
    [InlineData(999, 1000, 3, 7)]
    [InlineData(1000, 1000, 3, 1000)]
    [InlineData(1001, 1000, 1, 333)]
    [InlineData(25_017, 1000, 4, 1500)]
    [InlineData(25_017, 4096, 8, 65536)]
    public async Task Reads_exactly_the_blob_whatever_the_chunking(int length, int chunk, int ahead, int readSize)
    {
        var container = await ContainerAsync();
        byte[] content = Content(length, length);
        var blob = container.GetBlobClient("data.bin");
        var etag = (await blob.UploadAsync(new BinaryData(content))).Value.ETag;

        await using var stream = await PrefetchingBlobReadStream.OpenAsync(blob, etag, new BlobPrefetchOptions { ChunkBytes = chunk, ChunksAhead = ahead });
        var read = new MemoryStream();
        byte[] buffer = new byte[readSize];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            read.Write(buffer, 0, n);
        }

        Assert.Equal(length, stream.Length);
        Assert.Equal(content, read.ToArray());
        Assert.Equal(0, await stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task A_blob_replaced_mid_read_fails_with_412_instead_of_mixing_versions()
    {
        var container = await ContainerAsync();
        var blob = container.GetBlobClient("data.bin");
        var etag = (await blob.UploadAsync(new BinaryData(Content(10_000, 1)))).Value.ETag;
        await using var stream = await PrefetchingBlobReadStream.OpenAsync(blob, etag, new BlobPrefetchOptions { ChunkBytes = 1000, ChunksAhead = 1 });
        byte[] buffer = new byte[1000];
        Assert.Equal(1000, await stream.ReadAsync(buffer)); // chunk 0; chunk 1 may already be on its way

        await blob.UploadAsync(new BinaryData(Content(10_000, 2)), overwrite: true);

        var failure = await Assert.ThrowsAsync<RequestFailedException>(async () =>
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        });
        Assert.Equal(412, failure.Status);
        var again = await Assert.ThrowsAsync<RequestFailedException>(async () => await stream.ReadAsync(buffer)); // no reading on past the gap
        Assert.Equal(412, again.Status);
    }

    [Fact]
    public async Task Opening_a_version_that_is_gone_fails_with_412()
    {
        var container = await ContainerAsync();
        var blob = container.GetBlobClient("data.bin");
        var etag = (await blob.UploadAsync(new BinaryData(Content(100, 1)))).Value.ETag;
        await blob.UploadAsync(new BinaryData(Content(100, 2)), overwrite: true);

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => PrefetchingBlobReadStream.OpenAsync(blob, etag));
        Assert.Equal(412, failure.Status);
    }

    [Fact]
    public async Task Disposing_with_downloads_in_flight_is_quiet()
    {
        var container = await ContainerAsync();
        var blob = container.GetBlobClient("data.bin");
        var etag = (await blob.UploadAsync(new BinaryData(Content(200_000, 1)))).Value.ETag;
        var stream = await PrefetchingBlobReadStream.OpenAsync(blob, etag, new BlobPrefetchOptions { ChunkBytes = 10_000, ChunksAhead = 8 });
        Assert.Equal(10, await stream.ReadAsync(new byte[10]));

        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await stream.ReadAsync(new byte[10]));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(5_000, 1)]
    [InlineData(5_000, 3)]
    [InlineData(123_457, 4)]
    public async Task The_writer_commits_exactly_what_was_written_and_nothing_shows_before(int length, int parallel)
    {
        var container = await ContainerAsync();
        var blob = container.GetBlockBlobClient("out.bin");
        byte[] content = Content(length, length);

        await using (var writer = new AtomicBlobWriter(blob, blockSize: 1024, parallelStages: parallel))
        {
            for (int at = 0; at < length; at += 777)
            {
                await writer.WriteAsync(content.AsMemory(at, Math.Min(777, length - at)));
            }

            Assert.False(await blob.ExistsAsync());
            await writer.CommitAsync();
        }

        Assert.Equal(content, (await blob.DownloadContentAsync()).Value.Content.ToArray());
        var blocks = (await blob.GetBlockListAsync()).Value.CommittedBlocks.ToList();
        Assert.Equal((length + 1023) / 1024, blocks.Count);
    }

    [Fact]
    public async Task A_writer_disposed_without_commit_leaves_the_previous_version()
    {
        var container = await ContainerAsync();
        var blob = container.GetBlockBlobClient("out.bin");
        await blob.UploadAsync(new MemoryStream(Content(10, 1)));

        await using (var writer = new AtomicBlobWriter(blob, blockSize: 1024, parallelStages: 4))
        {
            await writer.WriteAsync(Content(10_000, 2));
        }

        Assert.Equal(Content(10, 1), (await blob.DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task A_failed_block_stops_the_commit()
    {
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("missing"));
        var blob = container.GetBlockBlobClient("out.bin"); // the container does not exist: every stage fails

        await using var writer = new AtomicBlobWriter(blob, blockSize: 1024, parallelStages: 4);
        await writer.WriteAsync(Content(2048, 1)); // two stages started, neither awaited yet

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => writer.CommitAsync());
        Assert.Equal(404, failure.Status);
        Assert.False(await container.ExistsAsync());
    }

    [Fact]
    public async Task After_a_failed_block_every_write_and_commit_fails()
    {
        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(LocalStackFixture.UniqueName("missing"));
        await using var writer = new AtomicBlobWriter(container.GetBlockBlobClient("out.bin"), blockSize: 1024, parallelStages: 1);

        var first = await Assert.ThrowsAsync<RequestFailedException>(async () => await writer.WriteAsync(Content(1024, 1)));
        await container.CreateAsync(); // storage is back, but the block list already has a hole

        Assert.Equal(404, first.Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<RequestFailedException>(async () => await writer.WriteAsync(Content(10, 2)))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<RequestFailedException>(() => writer.CommitAsync())).Status);
        Assert.False(await container.GetBlobClient("out.bin").ExistsAsync());
    }
}
