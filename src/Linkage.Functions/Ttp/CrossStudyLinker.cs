using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Linkage.Azure.Cosmos;
using Linkage.Azure.Storage;
using Linkage.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Ttp;

/// <summary>The same person found in several studies (TTP zone only): link key (keyed hash) → study tokens.</summary>
public sealed record CrossStudyLink
{
    public required string Id { get; init; }

    public List<Member> Members { get; init; } = [];

    public sealed record Member(string Study, string Token);
}

/// <summary>
/// Records, in the TTP zone only, the same person found in two studies (same link key), as documents in
/// <c>ttp-links</c> keyed by the link key's hex form. Publishing a study's committed link index first unlinks the pairs
/// its previous index had and the new one lacks (the person left, or their NHS number or date of birth was corrected),
/// then makes the new index the study's, then links it with every other study's. Each step is idempotent, so a retry
/// after a crash anywhere converges.
/// </summary>
public sealed class CrossStudyLinker(BlobServiceClient blobs, CosmosDatabase cosmos)
{
    public const string LinksContainerId = "ttp-links";

    /// <summary>
    /// Publishes <paramref name="stagedIndexName"/> (a name in the registry container) as the study's index, replacing
    /// the previous committed file's (<paramref name="previousIndexName"/>, null for the study's first). Returns the
    /// links found, and the links removed: pairs of the previous index the new one lacks whose key another study shares.
    /// Both are counted from the indexes, so a re-run after a crash reports what the first run would have.
    /// </summary>
    public async Task<(long Found, long Removed)> PublishAsync(string study, string stagedIndexName, string? previousIndexName, CancellationToken cancellationToken)
    {
        var registry = blobs.GetBlobContainerClient(TtpStorage.Registry);
        var index = await ReadIndexAsync(registry.GetBlobClient(stagedIndexName), study, cancellationToken);
        var links = await cosmos.ContainerAsync(LinksContainerId, "/id", cancellationToken);
        var others = new List<LinkIndex>();
        await foreach (var item in registry.GetBlobsAsync(BlobTraits.None, BlobStates.None, "links/", cancellationToken))
        {
            string other = Path.GetFileNameWithoutExtension(item.Name);
            if (other != study)
            {
                others.Add(await ReadIndexAsync(registry.GetBlobClient(item.Name), other, cancellationToken));
            }
        }

        long removed = 0;
        if (previousIndexName is not null && await TryReadIndexAsync(registry.GetBlobClient(previousIndexName), study, cancellationToken) is { } previous)
        {
            var dropped = previous.Except(index).ToList();
            foreach (var (linkKey, token) in dropped)
            {
                await UnlinkAsync(links, linkKey, study, token.ToString(), cancellationToken);
            }

            removed = dropped.Count(d => others.Any(o => o.Contains(d.Key)));
        }

        await using (var w = new AtomicBlobWriter(registry.GetBlockBlobClient(TtpStorage.LinkIndex(study))))
        {
            await index.WriteAsync(w, cancellationToken);
            await w.CommitAsync(cancellationToken: cancellationToken);
        }

        long found = 0;
        foreach (var otherIndex in others)
        {
            foreach (var (linkKey, mine, theirs) in index.Join(otherIndex))
            {
                await UpsertLinkAsync(links, linkKey, (study, mine.ToString()), (otherIndex.Study, theirs.ToString()), cancellationToken);
                found++;
            }
        }

        return (found, removed);
    }

    private static async Task<LinkIndex?> TryReadIndexAsync(BlobClient blob, string study, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadIndexAsync(blob, study, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null; // the study's first accepted file
        }
    }

    /// <summary>
    /// Reads a study's link index. That study's own intake may replace it while it is read (the read stream is pinned to
    /// the version it opened, so it then fails with 412); read the new version instead of failing this file.
    /// </summary>
    private static async Task<LinkIndex> ReadIndexAsync(BlobClient blob, string study, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var s = await blob.OpenReadAsync(cancellationToken: cancellationToken);
                return await LinkIndex.ReadAsync(study, s, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>Takes the study's member out of a link; a link left with fewer than two studies is deleted. True if it changed.</summary>
    private static async Task<bool> UnlinkAsync(Container links, UInt128 linkKey, string study, string token, CancellationToken cancellationToken)
    {
        string id = IdOf(linkKey);
        var pk = new PartitionKey(id);
        bool changed = await links.UpdateAsync<CrossStudyLink>(
            id, pk, link => link is not null && link.Members.RemoveAll(m => m.Study == study && m.Token == token) > 0 ? link : null, cancellationToken);

        // A link left with one study links nothing: delete it (also when a crash came between the update and the delete).
        for (int attempt = 1; attempt <= 10; attempt++)
        {
            try
            {
                var read = await links.ReadItemAsync<CrossStudyLink>(id, pk, cancellationToken: cancellationToken);
                if (read.Resource.Members.Count >= 2)
                {
                    break;
                }

                await links.DeleteItemAsync<CrossStudyLink>(id, pk, new ItemRequestOptions { IfMatchEtag = read.ETag }, cancellationToken);
                break;
            }
            catch (CosmosException e) when (e.StatusCode is System.Net.HttpStatusCode.NotFound)
            {
                break;
            }
            catch (CosmosException e) when (e.StatusCode is System.Net.HttpStatusCode.PreconditionFailed)
            {
                // Another intake changed it between the read and the delete: look again.
            }
        }

        return changed;
    }

    private static Task UpsertLinkAsync(Container links, UInt128 linkKey, (string Study, string Token) a, (string Study, string Token) b, CancellationToken cancellationToken)
    {
        string id = IdOf(linkKey);
        return links.UpdateAsync<CrossStudyLink>(id, new PartitionKey(id), link =>
        {
            link ??= new CrossStudyLink { Id = id };
            bool changed = false;
            foreach (var (s, t) in new[] { a, b })
            {
                if (!link.Members.Any(m => m.Study == s && m.Token == t))
                {
                    link.Members.RemoveAll(m => m.Study == s); // a study's newer token for the person replaces the old
                    link.Members.Add(new CrossStudyLink.Member(s, t));
                    changed = true;
                }
            }

            return changed ? link : null;
        }, cancellationToken);
    }

    private static string IdOf(UInt128 linkKey) => linkKey.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
}
