using System.Net;
using Linkage.Azure.Tests.Infrastructure;
using Microsoft.Azure.Cosmos;
using Microsoft.Azure.Cosmos.Linq;

namespace Linkage.Azure.Tests.Cosmos;

/// <summary>
/// The production Cosmos client (CosmosClientFactory: Gateway, LimitToEndpoint, System.Text.Json) against the local
/// stand-in: the operations the product relies on behave as in real Cosmos DB.
/// </summary>
[Collection(LocalStackCollection.Name)]
public class CosmosStandInTests(LocalStackFixture stack)
{
    public sealed record Member(string Id, string Study, int Rank, string Status, int Visits = 0);

    private static readonly Member[] Members =
    [
        new("m1", "study-a", 3, "active"),
        new("m2", "study-a", 1, "withdrawn"),
        new("m3", "study-a", 2, "active"),
        new("m4", "study-b", 5, "active"),
        new("m5", "study-b", 4, "active"),
        new("m6", "study-c", 6, "withdrawn"),
    ];

    [Fact]
    public async Task Upsert_then_point_read_returns_the_item_stored_in_camel_case()
    {
        var container = await SeededContainerAsync();

        var read = await container.ReadItemAsync<Member>("m4", new PartitionKey("study-b"));

        Assert.Equal(Members[3], read.Resource);
        Assert.False(string.IsNullOrEmpty(read.ETag));
        var raw = await DrainAsync(container.GetItemQueryIterator<string>(
            new QueryDefinition("SELECT VALUE c.study FROM c WHERE c.id = @id").WithParameter("@id", "m4")));
        Assert.Equal(["study-b"], raw);
    }

    [Fact]
    public async Task Point_read_of_a_missing_item_is_404()
    {
        var container = await SeededContainerAsync();

        var missing = await Assert.ThrowsAsync<CosmosException>(() => container.ReadItemAsync<Member>("nobody", new PartitionKey("study-a")));
        var wrongPartition = await Assert.ThrowsAsync<CosmosException>(() => container.ReadItemAsync<Member>("m1", new PartitionKey("study-b")));

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, wrongPartition.StatusCode);
    }

    [Fact]
    public async Task Replace_with_a_stale_etag_is_412_and_leaves_the_item_unchanged()
    {
        var container = await SeededContainerAsync();
        var first = await container.ReadItemAsync<Member>("m1", new PartitionKey("study-a"));
        await container.ReplaceItemAsync(first.Resource with { Rank = 30 }, "m1", new PartitionKey("study-a"),
            new ItemRequestOptions { IfMatchEtag = first.ETag });

        var stale = await Assert.ThrowsAsync<CosmosException>(() => container.ReplaceItemAsync(first.Resource with { Rank = 99 }, "m1",
            new PartitionKey("study-a"), new ItemRequestOptions { IfMatchEtag = first.ETag }));
        var staleUpsert = await Assert.ThrowsAsync<CosmosException>(() => container.UpsertItemAsync(first.Resource with { Rank = 98 },
            new PartitionKey("study-a"), new ItemRequestOptions { IfMatchEtag = first.ETag }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleUpsert.StatusCode);
        Assert.Equal(30, (await container.ReadItemAsync<Member>("m1", new PartitionKey("study-a"))).Resource.Rank);
    }

    [Fact]
    public async Task Partition_scoped_query_and_read_feed_return_only_that_partition()
    {
        var container = await SeededContainerAsync();
        var inStudyA = new QueryRequestOptions { PartitionKey = new PartitionKey("study-a") };

        var queried = await DrainAsync(container.GetItemQueryIterator<Member>("SELECT * FROM c", requestOptions: inStudyA));
        var count = await DrainAsync(container.GetItemQueryIterator<int>("SELECT VALUE COUNT(1) FROM c", requestOptions: inStudyA));
        var readFeed = await DrainAsync(container.GetItemQueryIterator<Member>((string?)null, requestOptions: inStudyA));

        Assert.Equal(["m1", "m2", "m3"], queried.Select(m => m.Id).Order());
        Assert.Equal([3], count);
        Assert.Equal(["m1", "m2", "m3"], readFeed.Select(m => m.Id).Order());
    }

    [Fact]
    public async Task Cross_partition_query_supports_order_by_count_and_parameters()
    {
        var container = await SeededContainerAsync();

        var ordered = await DrainAsync(container.GetItemQueryIterator<Member>(
            new QueryDefinition("SELECT * FROM c WHERE c.status = @status ORDER BY c.rank DESC").WithParameter("@status", "active")));
        var count = await DrainAsync(container.GetItemQueryIterator<int>("SELECT VALUE COUNT(1) FROM c"));
        var top = await DrainAsync(container.GetItemQueryIterator<string>("SELECT TOP 2 VALUE c.id FROM c ORDER BY c.rank"));

        Assert.Equal(["m4", "m5", "m1", "m3"], ordered.Select(m => m.Id));
        Assert.Equal([6], count);
        Assert.Equal(["m2", "m3"], top);
    }

    [Fact]
    public async Task Query_pages_through_continuations_without_losing_or_repeating_items()
    {
        var container = await SeededContainerAsync();

        var pages = new List<int>();
        var ids = new List<string>();
        using var iterator = container.GetItemQueryIterator<Member>("SELECT * FROM c ORDER BY c.rank",
            requestOptions: new QueryRequestOptions { MaxItemCount = 2 });
        while (iterator.HasMoreResults)
        {
            var page = await iterator.ReadNextAsync();
            pages.Add(page.Count);
            ids.AddRange(page.Select(m => m.Id));
        }

        Assert.Equal(["m2", "m3", "m1", "m5", "m4", "m6"], ids);
        Assert.All(pages, n => Assert.True(n <= 2));
    }

    [Fact]
    public async Task Linq_query_translates_with_camel_case_names()
    {
        var container = await SeededContainerAsync();

        using var iterator = container.GetItemLinqQueryable<Member>()
            .Where(m => m.Status == "active" && m.Rank >= 3)
            .OrderBy(m => m.Rank)
            .ToFeedIterator();
        var found = await DrainAsync(iterator);

        Assert.Equal(["m1", "m5", "m4"], found.Select(m => m.Id));
    }

    [Fact]
    public async Task Patch_sets_and_increments_and_honours_its_filter()
    {
        var container = await SeededContainerAsync();

        var patched = await container.PatchItemAsync<Member>("m3", new PartitionKey("study-a"),
            [PatchOperation.Set("/status", "withdrawn"), PatchOperation.Increment("/visits", 2)]);
        var filtered = await Assert.ThrowsAsync<CosmosException>(() => container.PatchItemAsync<Member>("m3", new PartitionKey("study-a"),
            [PatchOperation.Increment("/visits", 1)], new PatchItemRequestOptions { FilterPredicate = "FROM c WHERE c.status = 'active'" }));

        Assert.Equal(Members[2] with { Status = "withdrawn", Visits = 2 }, patched.Resource);
        Assert.Equal(HttpStatusCode.PreconditionFailed, filtered.StatusCode);
        Assert.Equal(2, (await container.ReadItemAsync<Member>("m3", new PartitionKey("study-a"))).Resource.Visits);
    }

    [Fact]
    public async Task Create_of_an_existing_id_is_409_and_delete_then_read_is_404()
    {
        var container = await SeededContainerAsync();

        var conflict = await Assert.ThrowsAsync<CosmosException>(() => container.CreateItemAsync(Members[0], new PartitionKey("study-a")));
        await container.DeleteItemAsync<Member>("m1", new PartitionKey("study-a"));
        var gone = await Assert.ThrowsAsync<CosmosException>(() => container.ReadItemAsync<Member>("m1", new PartitionKey("study-a")));

        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private async Task<Container> SeededContainerAsync()
    {
        var database = await stack.CreateDatabaseAsync();
        var container = (await database.CreateContainerAsync(LocalStackFixture.UniqueName("members"), "/study")).Container;
        foreach (var member in Members)
        {
            await container.UpsertItemAsync(member, new PartitionKey(member.Study));
        }

        return container;
    }

    private static async Task<List<T>> DrainAsync<T>(FeedIterator<T> iterator)
    {
        var all = new List<T>();
        while (iterator.HasMoreResults)
        {
            all.AddRange(await iterator.ReadNextAsync());
        }

        iterator.Dispose();
        return all;
    }
}
