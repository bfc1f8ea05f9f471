using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Azure.Storage;
using Linkage.Azure.Tests.Infrastructure;

namespace Linkage.Azure.Tests.Storage;

/// <summary>Moving one blob version to an archive or quarantine container, against Azurite: never overwrite, idempotent per ETag.</summary>
[Collection(LocalStackCollection.Name)]
public class BlobVersionMoveTests(LocalStackFixture stack)
{
    private const string Name = "ALSPAC/ALSPAC_FILE1_v1_20250101.csv";

    private async Task<(BlobContainerClient Inbox, BlobContainerClient Archive)> ContainersAsync()
    {
        var blobs = stack.CreateBlobServiceClient();
        var inbox = blobs.GetBlobContainerClient(LocalStackFixture.UniqueName("inbox"));
        await inbox.CreateAsync();
        return (inbox, blobs.GetBlobContainerClient(LocalStackFixture.UniqueName("archive")));
    }

    private static async Task<ETag> UploadAsync(BlobContainerClient container, string name, string text) =>
        (await container.GetBlobClient(name).UploadAsync(BinaryData.FromString(text), overwrite: true)).Value.ETag;

    private static async Task<Dictionary<string, string>> ContentsAsync(BlobContainerClient container)
    {
        var contents = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var item in container.GetBlobsAsync())
        {
            contents[item.Name] = (await container.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString();
        }

        return contents;
    }

    [Fact]
    public async Task A_second_delivery_of_the_same_name_is_kept_beside_the_first()
    {
        var (inbox, archive) = await ContainersAsync();
        var first = await UploadAsync(inbox, Name, "first delivery");
        Assert.Equal(Name, await inbox.GetBlobClient(Name).MoveToAsync(first, archive, CancellationToken.None));

        var second = await UploadAsync(inbox, Name, "second delivery");
        string? secondName = await inbox.GetBlobClient(Name).MoveToAsync(second, archive, CancellationToken.None);

        Assert.NotNull(secondName);
        Assert.NotEqual(Name, secondName);
        Assert.Matches(@"^ALSPAC/ALSPAC_FILE1_v1_20250101\.\d{14}-[0-9a-f]{8}\.csv$", secondName);
        var contents = await ContentsAsync(archive);
        Assert.Equal(2, contents.Count);
        Assert.Equal("first delivery", contents[Name]);
        Assert.Equal("second delivery", contents[secondName]);
        Assert.Empty(await ContentsAsync(inbox));
    }

    [Fact]
    public async Task A_rerun_of_the_same_move_finds_its_copy_and_makes_no_second_one()
    {
        var (inbox, archive) = await ContainersAsync();
        var first = await UploadAsync(inbox, Name, "first delivery");
        await inbox.GetBlobClient(Name).MoveToAsync(first, archive, CancellationToken.None);
        var second = await UploadAsync(inbox, Name, "second delivery");
        string? secondName = await inbox.GetBlobClient(Name).MoveToAsync(second, archive, CancellationToken.None);

        // Re-runs (a retried activity) of both moves, the source already gone.
        Assert.Equal(Name, await inbox.GetBlobClient(Name).MoveToAsync(first, archive, CancellationToken.None));
        Assert.Equal(secondName, await inbox.GetBlobClient(Name).MoveToAsync(second, archive, CancellationToken.None));

        var contents = await ContentsAsync(archive);
        Assert.Equal(2, contents.Count);
        Assert.Equal("first delivery", contents[Name]);
        Assert.Equal("second delivery", contents[secondName!]);
    }

    [Fact]
    public async Task A_run_interrupted_after_its_copy_finishes_with_the_delete_only()
    {
        var (inbox, archive) = await ContainersAsync();
        await archive.CreateAsync();
        await UploadAsync(archive, Name, "an earlier delivery");
        var etag = await UploadAsync(inbox, Name, "this delivery");
        var source = inbox.GetBlobClient(Name);
        string unique = BlobVersionMove.UniqueName(Name, (await source.GetPropertiesAsync()).Value.LastModified, etag.ToString());

        // What a run killed between copy and delete leaves: the copy under its unique name, the source still there.
        var copy = await archive.GetBlobClient(unique).StartCopyFromUriAsync(source.Uri, new BlobCopyFromUriOptions
        {
            Metadata = new Dictionary<string, string> { [BlobVersionMove.SourceETagMetadata] = etag.ToString() },
        });
        await copy.WaitForCompletionAsync();

        Assert.Equal(unique, await source.MoveToAsync(etag, archive, CancellationToken.None));
        var contents = await ContentsAsync(archive);
        Assert.Equal(2, contents.Count);
        Assert.Equal("this delivery", contents[unique]);
        Assert.Equal("an earlier delivery", contents[Name]);
        Assert.Empty(await ContentsAsync(inbox));
    }

    [Fact]
    public async Task A_newer_version_at_the_source_stays_in_place()
    {
        var (inbox, archive) = await ContainersAsync();
        var old = await UploadAsync(inbox, Name, "old version");
        await UploadAsync(inbox, Name, "newer version"); // the provider re-sent the file before the old one's move

        Assert.Null(await inbox.GetBlobClient(Name).MoveToAsync(old, archive, CancellationToken.None));

        Assert.Equal("newer version", (await ContentsAsync(inbox))[Name]);
        Assert.Empty(await ContentsAsync(archive));
    }

    [Fact]
    public async Task A_newer_version_arriving_after_the_copy_stays_in_place_and_the_copy_counts()
    {
        var (inbox, archive) = await ContainersAsync();
        await archive.CreateAsync();
        var old = await UploadAsync(inbox, Name, "old version");
        var source = inbox.GetBlobClient(Name);
        var copy = await archive.GetBlobClient(Name).StartCopyFromUriAsync(source.Uri, new BlobCopyFromUriOptions
        {
            Metadata = new Dictionary<string, string> { [BlobVersionMove.SourceETagMetadata] = old.ToString() },
        });
        await copy.WaitForCompletionAsync();
        await UploadAsync(inbox, Name, "newer version"); // arrives between the copy and the delete

        Assert.Equal(Name, await source.MoveToAsync(old, archive, CancellationToken.None));

        Assert.Equal("newer version", (await ContentsAsync(inbox))[Name]);
        Assert.Equal("old version", (await ContentsAsync(archive))[Name]);
    }

    [Theory]
    [InlineData("ALSPAC/X_v1.csv", "ALSPAC/X_v1.20250807093000-")]
    [InlineData("a.b/report", "a.b/report.20250807093000-")]
    [InlineData("noext", "noext.20250807093000-")]
    public void The_unique_name_keeps_the_extension_and_orders_by_time(string name, string prefix)
    {
        string unique = BlobVersionMove.UniqueName(name, new DateTimeOffset(2025, 8, 7, 10, 30, 0, TimeSpan.FromHours(1)), "\"0x8DD1\"");
        Assert.StartsWith(prefix, unique, StringComparison.Ordinal);
        Assert.EndsWith(Path.GetExtension(name.Split('/')[^1]), unique, StringComparison.Ordinal);
        Assert.Equal(prefix.Length + 8 + Path.GetExtension(name.Split('/')[^1]).Length, unique.Length);
        Assert.NotEqual(unique, BlobVersionMove.UniqueName(name, new DateTimeOffset(2025, 8, 7, 10, 30, 0, TimeSpan.FromHours(1)), "\"0x8DD2\""));
    }
}
