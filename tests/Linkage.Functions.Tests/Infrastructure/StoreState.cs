using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Permissions;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// Everything an intake leaves behind, as comparable text: every blob (content hash and metadata) of the given
/// containers and every document of the given Cosmos containers. What legitimately differs between two runs of the same
/// input is normalised away, and nothing else: timestamps, the delivery's ETag (each upload makes a new one), the ECDSA
/// signature (randomised) and the snapshot's creation time, together with the hashes that cover it.
/// </summary>
internal static class StoreState
{
    private static readonly HashSet<string> Volatile = new(StringComparer.Ordinal)
    {
        "_rid", "_self", "_etag", "_attachments", "_ts", "processedAt", "publishedAt", "seconds", "committedAt", "signature", "updatedAt",
    };

    public static async Task<SortedDictionary<string, string>> CaptureAsync(
        BlobServiceClient blobs, CosmosClient cosmos, string database, IEnumerable<string> containers, IEnumerable<string> cosmosContainers, IReadOnlyDictionary<string, string> replacements)
    {
        var state = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in containers)
        {
            var container = blobs.GetBlobContainerClient(name);
            if (!(await container.ExistsAsync()).Value)
            {
                continue;
            }

            await foreach (var item in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix: null, cancellationToken: default))
            {
                var content = (await container.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content;
                string metadata = string.Join(";", item.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}"));
                state[Replace($"blob {name}/{item.Name}", replacements)] = Replace(await NormaliseBlobAsync(item.Name, content), replacements) + " | " + Replace(metadata, replacements);
            }
        }

        foreach (string name in cosmosContainers)
        {
            var container = cosmos.GetContainer(database, name);
            try
            {
                using var it = container.GetItemQueryIterator<JsonElement>("SELECT * FROM c");
                while (it.HasMoreResults)
                {
                    foreach (var doc in await it.ReadNextAsync())
                    {
                        var node = JsonNode.Parse(doc.GetRawText())!;
                        state[Replace($"cosmos {name}/{node["id"]}", replacements)] = Replace(Normalise(node).ToJsonString(), replacements);
                    }
                }
            }
            catch (CosmosException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }

        return state;
    }

    /// <summary>Asserts two states are equal, naming the first items that differ.</summary>
    public static void AssertSame(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual, string scenario)
    {
        var missing = expected.Keys.Except(actual.Keys).ToList();
        var extra = actual.Keys.Except(expected.Keys).ToList();
        var changed = expected.Keys.Intersect(actual.Keys).Where(k => expected[k] != actual[k]).ToList();
        if (missing.Count + extra.Count + changed.Count > 0)
        {
            Assert.Fail($"{scenario}: the final state differs from an uninterrupted run's.\nmissing: {string.Join(", ", missing.Take(10))}\nextra: {string.Join(", ", extra.Take(10))}\n" +
                $"changed: {string.Join("\n", changed.Take(5).Select(k => $"{k}\n  expected {Cut(expected[k])}\n  actual   {Cut(actual[k])}"))}");
        }
    }

    /// <summary>Deletes every blob of the containers and every document of the Cosmos containers: a clean slate that keeps the keys.</summary>
    public static async Task WipeAsync(BlobServiceClient blobs, CosmosClient cosmos, string database, IEnumerable<string> containers, IEnumerable<string> cosmosContainers)
    {
        foreach (string name in containers)
        {
            var container = blobs.GetBlobContainerClient(name);
            if ((await container.ExistsAsync()).Value)
            {
                await foreach (var item in container.GetBlobsAsync())
                {
                    await container.GetBlobClient(item.Name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots);
                }
            }
        }

        foreach (string name in cosmosContainers)
        {
            var container = cosmos.GetContainer(database, name);
            try
            {
                var docs = new List<JsonElement>();
                using (var it = container.GetItemQueryIterator<JsonElement>("SELECT * FROM c"))
                {
                    while (it.HasMoreResults)
                    {
                        docs.AddRange(await it.ReadNextAsync());
                    }
                }

                var pkPath = (await container.ReadContainerAsync()).Resource.PartitionKeyPath.TrimStart('/');
                foreach (var doc in docs)
                {
                    await container.DeleteItemAsync<JsonElement>(doc.GetProperty("id").GetString(), new PartitionKey(doc.GetProperty(pkPath).GetString()));
                }
            }
            catch (CosmosException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
    }

    private static async Task<string> NormaliseBlobAsync(string name, BinaryData content)
    {
        if (name.EndsWith(".snapshot", StringComparison.Ordinal))
        {
            var snapshot = await PermissionSnapshot.ReadAsync(content.ToStream(), CancellationToken.None);
            var h = snapshot.Header;
            return $"snapshot {h.StudyCode} v{h.File1Version} {h.TokenKeyVersion}: " + Hash(string.Join('\n', snapshot.Entries().Select(e => $"{e.Token}={(int)e.Flags}")));
        }

        if (name.EndsWith(".manifest.json", StringComparison.Ordinal) || name.EndsWith(".json", StringComparison.Ordinal))
        {
            var node = JsonNode.Parse(content.ToString())!;
            if (node["payload"] is { } payload)
            {
                node["payload"] = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload.GetValue<string>())));
            }

            return Normalise(node).ToJsonString();
        }

        return $"{content.ToMemory().Length} bytes sha256 {Convert.ToHexStringLower(SHA256.HashData(content.ToMemory().Span))}";
    }

    /// <summary>Drops volatile fields, and the hashes and lengths of snapshots (their creation time is inside them).</summary>
    private static JsonNode Normalise(JsonNode node)
    {
        if (node is JsonObject o)
        {
            bool isSnapshotFile = o["name"]?.GetValueKind() == JsonValueKind.String && o["name"]!.GetValue<string>().EndsWith(".snapshot", StringComparison.Ordinal);
            foreach (var key in o.Select(p => p.Key).ToList())
            {
                if (Volatile.Contains(key) || (isSnapshotFile && key is "sha256" or "length"))
                {
                    o.Remove(key);
                }
                else if (o[key] is { } child)
                {
                    Normalise(child);
                }
            }
        }
        else if (node is JsonArray a)
        {
            foreach (var child in a)
            {
                if (child is not null)
                {
                    Normalise(child);
                }
            }
        }

        return node;
    }

    private static string Replace(string text, IReadOnlyDictionary<string, string> replacements)
    {
        foreach (var (from, to) in replacements)
        {
            text = text.Replace(from, to, StringComparison.Ordinal);
        }

        return text;
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Cut(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
