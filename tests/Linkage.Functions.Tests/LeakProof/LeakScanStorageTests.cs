using System.IO.Compression;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Linkage.Azure.Cosmos;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging;

namespace Linkage.Functions.Tests.LeakProof;

/// <summary>
/// The storage walk of the leak scan, on a real Azurite and Cosmos stand-in: every planted spelling is found in every
/// kind of place it walks (blob content, gzip blob content, blob metadata, blob index tags, container metadata, Cosmos
/// document, Base64 queue message, table entity, log line), each finding names that place and never the identifier, and
/// the TTP zone's containers are left out exactly as the policy says.
/// </summary>
public sealed class LeakScanStorageTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private const string TagSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-.:=_/";

    [Fact]
    public async Task Every_spelling_planted_in_every_kind_of_place_is_found_there()
    {
        var spellings = IdentifierScanTests.Spellings();
        var blobs = stack.CreateBlobServiceClient();
        var queues = new QueueServiceClient(stack.Stack.StorageConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var tables = new TableServiceClient(stack.Stack.StorageConnectionString);
        using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        var db = (await cosmos.CreateDatabaseIfNotExistsAsync("linkage")).Database;
        var documents = (await db.CreateContainerIfNotExistsAsync(new ContainerProperties("planted", "/id"))).Container;
        var logs = new CapturingLoggerProvider();
        var logger = logs.CreateLogger("Planted");

        var processorInbox = blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox);
        var hub = blobs.GetBlobContainerClient("plantedhub-largemessages");
        var meta = blobs.GetBlobContainerClient("planted-metadata");
        var tags = blobs.GetBlobContainerClient("planted-tags");
        foreach (var c in new[] { processorInbox, hub, meta, tags })
        {
            await c.CreateIfNotExistsAsync();
        }

        var expected = new List<(string Label, string Where)>();
        for (int i = 0; i < spellings.Count; i++)
        {
            var (label, text) = spellings[i];
            await processorInbox.GetBlobClient($"planted/{i}.txt").UploadAsync(BinaryData.FromString($"row,{text},end\n"), overwrite: true);
            expected.Add(($"blob content: {label}", $"blob {TtpStorage.ProcessorInbox}/planted/{i}.txt"));

            await hub.GetBlobClient($"{i}.json.gz").UploadAsync(new BinaryData(Gzip($"{{\"input\":\"{text.Replace("\"", "\\\"", StringComparison.Ordinal)}\"}}")), overwrite: true);
            expected.Add(($"gzip blob content: {label}", $"blob {hub.Name}/{i}.json.gz"));

            bool headerSafe = text.All(ch => ch is >= ' ' and <= '~');
            if (headerSafe)
            {
                await meta.GetBlobClient($"{i}").UploadAsync(BinaryData.FromString("nothing here"), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["note"] = text } });
                expected.Add(($"blob metadata: {label}", $"blob {meta.Name}/{i} (name, metadata, tags and headers)"));

                var container = blobs.GetBlobContainerClient($"planted-container-{i}");
                await container.CreateIfNotExistsAsync(metadata: new Dictionary<string, string> { ["note"] = text });
                expected.Add(($"container metadata: {label}", $"container {container.Name} (name and metadata)"));
            }

            if (text.All(ch => TagSafe.Contains(ch, StringComparison.Ordinal)) && text.Length <= 256)
            {
                await tags.GetBlobClient($"{i}").UploadAsync(BinaryData.FromString("nothing here"), new BlobUploadOptions { Tags = new Dictionary<string, string> { ["note"] = text } });
                expected.Add(($"blob index tag: {label}", $"blob {tags.Name}/{i} (name, metadata, tags and headers)"));
            }

            await documents.UpsertItemAsync(new { id = $"plant-{i}", note = text }, new PartitionKey($"plant-{i}"));
            expected.Add(($"Cosmos document: {label}", $"cosmos linkage/planted document plant-{i}"));

            var queue = queues.GetQueueClient($"planted-queue-{i}");
            await queue.CreateIfNotExistsAsync();
            var sent = await queue.SendMessageAsync(BinaryData.FromString($"{{\"Input\":\"{text.Replace("\"", "\\\"", StringComparison.Ordinal)}\"}}"));
            expected.Add(($"queue message: {label}", $"queue {queue.Name} message {sent.Value.MessageId} (Base64-decoded)"));

            var table = tables.GetTableClient($"planted{i}");
            await table.CreateIfNotExistsAsync();
            await table.UpsertEntityAsync(new TableEntity("p", "r") { ["Input"] = text });
            expected.Add(($"table entity: {label}", $"table {table.Name} entity p/r"));

            int before = logs.Lines.Count;
            logger.LogInformation("Processing {Value}", text);
            expected.Add(($"log line: {label}", $"log line {before + 1}"));
        }

        var report = await LeakScan.ScanAsync(IdentifierScanTests.Scan, stack.Stack, logs);

        // A place's text is also searched with its JSON or URL escapes undone; such a finding names the place and the undoing.
        var wheres = report.Findings.Select(f => f.Where).ToHashSet(StringComparer.Ordinal);
        var missed = expected.Where(e => !wheres.Contains(e.Where) && !wheres.Any(w => w.StartsWith(e.Where + " (", StringComparison.Ordinal))).Select(e => e.Label).ToList();
        Assert.True(missed.Count == 0, $"Not found where planted ({missed.Count} of {expected.Count}):\n" + string.Join('\n', missed));
        Assert.True(expected.Count(e => e.Label.StartsWith("blob index tag", StringComparison.Ordinal)) >= 10, "tags must have been planted");

        // Findings name places and kinds of spelling, never an identifier in any spelling.
        string failure = IdentifierScan.Describe(report.Findings);
        foreach (var v in IdentifierScanTests.Scan.Variants)
        {
            Assert.DoesNotContain(v.Text, failure, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Throws<Xunit.Sdk.FailException>(report.AssertClean);
    }

    [Fact]
    public async Task The_ttp_zone_may_hold_identifiers_and_nothing_else_may()
    {
        var blobs = stack.CreateBlobServiceClient();
        using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        var db = (await cosmos.CreateDatabaseIfNotExistsAsync("linkage")).Database;

        // Identifiers where the TTP keeps them: every TTP blob container and the TTP-only Cosmos containers.
        const string row = "ALS12345678,C,9434765919,SMITH,GRACE";
        foreach (string container in TtpStorage.TtpContainers)
        {
            var c = blobs.GetBlobContainerClient(container);
            await c.CreateIfNotExistsAsync();
            await c.GetBlobClient("policy/row.csv").UploadAsync(BinaryData.FromString(row), overwrite: true);
        }

        foreach (string id in LeakScan.TtpCosmosContainers)
        {
            var c = (await db.CreateContainerIfNotExistsAsync(new ContainerProperties(id, "/id"))).Container;
            await c.UpsertItemAsync(new { id = "policy-row", row }, new PartitionKey("policy-row"));
        }

        var policy = await LeakScan.ScanAsync(IdentifierScanTests.Scan, stack.Stack, null);
        Assert.DoesNotContain(policy.Findings, f => f.Where.Contains("policy", StringComparison.Ordinal));
        Assert.DoesNotContain(policy.Places, p => TtpStorage.TtpContainers.Any(c => p.StartsWith($"blob {c}/", StringComparison.Ordinal)));

        // The stricter scan reads the TTP-only Cosmos containers too, and finds them.
        var strict = await LeakScan.ScanAsync(IdentifierScanTests.Scan, stack.Stack, null, new LeakScanOptions { IncludeTtpCosmosContainers = true });
        foreach (string id in LeakScan.TtpCosmosContainers)
        {
            Assert.Contains(strict.Findings, f => f.Where == $"cosmos linkage/{id} document policy-row");
        }

        // The same row in any other Cosmos container, however TTP-like its name, is a leak.
        var other = (await db.CreateContainerIfNotExistsAsync(new ContainerProperties("ttp-something-new", "/id"))).Container;
        await other.UpsertItemAsync(new { id = "policy-row", row }, new PartitionKey("policy-row"));
        var leak = await LeakScan.ScanAsync(IdentifierScanTests.Scan, stack.Stack, null);
        Assert.Contains(leak.Findings, f => f.Where == "cosmos linkage/ttp-something-new document policy-row");
    }

    private static byte[] Gzip(string text)
    {
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return packed.ToArray();
    }
}
