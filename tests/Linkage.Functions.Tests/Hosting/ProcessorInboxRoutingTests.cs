using Linkage.Functions.Hosting;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;

namespace Linkage.Functions.Tests.Hosting;

/// <summary>
/// The TTP's output writer goes to the <see cref="ProcessorInbox"/> it is given for processor-from-ttp (in Azure, the
/// TRE's account) and to its own account for everything else. Here the "other account" is a differently named
/// container of the local stack's account, which is enough to tell which client was used.
/// </summary>
[Collection(LocalStackCollection.Name)]
public sealed class ProcessorInboxRoutingTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Withdrawing_a_studys_uncommitted_outputs_reaches_the_inbox_where_it_is()
    {
        var blobs = stack.CreateBlobServiceClient();
        var elsewhere = blobs.GetBlobContainerClient(LocalStackFixture.UniqueName("inbox-elsewhere"));
        await elsewhere.CreateIfNotExistsAsync();
        string study = "ROUTE" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        string name = $"id-mapping/{study}/stale.csv";
        await elsewhere.GetBlobClient(name).UploadAsync(BinaryData.FromString("x"));
        var local = blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox);
        await local.CreateIfNotExistsAsync();
        await local.GetBlobClient(name).UploadAsync(BinaryData.FromString("x"), overwrite: true);

        var writer = new File1OutputWriter(blobs, TimeProvider.System, new ProcessorInbox(elsewhere));
        var withdrawn = await writer.WithdrawUncommittedAsync(study, [], CancellationToken.None);

        Assert.Contains($"{TtpStorage.ProcessorInbox}/{name}", withdrawn);
        Assert.False((await elsewhere.GetBlobClient(name).ExistsAsync()).Value, "The blob in the configured inbox was not withdrawn.");
        Assert.True((await local.GetBlobClient(name).ExistsAsync()).Value, "The writer used the data account's container instead of the configured inbox.");
        await local.GetBlobClient(name).DeleteIfExistsAsync();
        await elsewhere.DeleteIfExistsAsync();
    }
}
