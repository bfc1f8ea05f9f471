using System.Diagnostics;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Linkage.Azure.Cosmos;
using Linkage.DevStack;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Processor;
using Linkage.Functions.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>What a leak scan looked at, how long it took, and what it found.</summary>
internal sealed class LeakScanReport
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public List<LeakFinding> Findings { get; } = [];

    /// <summary>Every place scanned ("blob c/n", "cosmos db/c/id", "queue q", "table t", "logs"), for tests to check coverage.</summary>
    public List<string> Places { get; } = [];

    public TimeSpan Elapsed { get; set; }

    public long Count(string what) => _counts.GetValueOrDefault(what);

    public void Add(string what, long n = 1) => _counts[what] = Count(what) + n;

    public string Summary =>
        string.Join(", ", _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Value} {kv.Key}")) + $"; {Elapsed.TotalSeconds:0.00} s";

    public void AssertClean()
    {
        if (Findings.Count > 0)
        {
            Assert.Fail(IdentifierScan.Describe(Findings));
        }
    }
}

/// <summary>
/// Walks everything the local stack holds outside the TTP zone and runs an <see cref="IdentifierScan"/> over it:
/// <list type="bullet">
/// <item>every blob of every blob container except <see cref="TtpStorage.TtpContainers"/> (which may hold identifiers and
/// are granted to the TTP's identity only): <c>processor-from-ttp</c>, <c>processor-*</c>, <c>tre-*</c>, the Durable Task
/// hub's containers, the local host's receipts, anything else — its name, content (gzip unpacked), metadata, index tags
/// and content headers; snapshots too; the container's metadata;</item>
/// <item>every document of every Cosmos container of every database, except the TTP-only containers
/// <see cref="TtpCosmosContainers"/>: <c>ttp-file1-versions</c> (File 1 version records: file names, counts, error
/// counts), <c>ttp-registry</c> (participant registry: tokens and permission history) and <c>ttp-links</c> (cross-study
/// links keyed by a keyed hash of NHS number and birth date). Only the TTP zone's code (<c>Ttp/</c>) reads or writes
/// them, their names carry the <c>ttp-</c> prefix the TTP's identity is granted, and the registry and links exist to
/// relate people, so the policy lets them hold identifiers. Everything else — <c>deliveries</c> (delivery records with
/// their last error text), <c>audit</c>, <c>keys</c> (wrapped data keys of every zone) and <c>tre-catalogue</c> — must be
/// free. (<see cref="LeakScanOptions.IncludeTtpCosmosContainers"/> scans the TTP ones too, for a test asserting more
/// than the policy asks.)</item>
/// <item>every message of every queue (the Durable Task hub's control and work-item queues, poison queues…), as stored and
/// Base64-decoded (gzip unpacked), and each queue's metadata;</item>
/// <item>every entity of every table (the Durable Task hub's History and Instances tables among them), every property;</item>
/// <item>the app's captured log lines (message, exception, structured values and scopes).</item>
/// </list>
/// </summary>
internal static class LeakScan
{
    public static IReadOnlyList<string> TtpCosmosContainers { get; } =
        [File1VersionStore.ContainerId, ParticipantRegistry.ContainerId, CrossStudyLinker.LinksContainerId];

    /// <summary>The Cosmos containers that must never hold an identifier (the scan covers all containers but the TTP's; this names the known ones).</summary>
    public static IReadOnlyList<string> NonTtpCosmosContainers { get; } =
        [DeliveryStore.ContainerId, Linkage.Functions.Api.AuditLog.ContainerId, Linkage.Azure.Keys.DataKeyStore.ContainerName, CurationCatalogue.ContainerId, Linkage.Functions.Workflows.WorkflowReportStore.ContainerId, Linkage.Functions.Provisioning.ProjectStore.ContainerId];

    public static async Task<LeakScanReport> ScanAsync(IdentifierScan scan, LocalStack stack, CapturingLoggerProvider? logs, LeakScanOptions? options = null)
    {
        options ??= new LeakScanOptions();
        var report = new LeakScanReport();
        var clock = Stopwatch.StartNew();
        await ScanBlobsAsync(scan, new BlobServiceClient(stack.StorageConnectionString), report);
        using (var cosmos = CosmosClientFactory.Create(new Uri(stack.CosmosEndpoint), stack.CosmosKey))
        {
            await ScanCosmosAsync(scan, cosmos, report, options.IncludeTtpCosmosContainers);
        }

        await ScanQueuesAsync(scan, new QueueServiceClient(stack.StorageConnectionString), report, options.ReceiveQueueMessages);
        await ScanTablesAsync(scan, new TableServiceClient(stack.StorageConnectionString), report);
        if (logs is not null)
        {
            ScanLogs(scan, logs, report);
        }

        report.Elapsed = clock.Elapsed;
        return report;
    }

    public static void ScanLogs(IdentifierScan scan, CapturingLoggerProvider logs, LeakScanReport report)
    {
        var lines = logs.Lines.ToArray();
        for (int i = 0; i < lines.Length; i++)
        {
            report.Findings.AddRange(scan.Find(lines[i], $"log line {i + 1}"));
            report.Add("characters", lines[i].Length);
        }

        report.Places.Add("logs");
        report.Add("log lines", lines.Length);
    }

    public static async Task ScanBlobsAsync(IdentifierScan scan, BlobServiceClient blobs, LeakScanReport report)
    {
        var ttp = TtpStorage.TtpContainers.ToHashSet(StringComparer.Ordinal);
        await foreach (var container in blobs.GetBlobContainersAsync(BlobContainerTraits.Metadata))
        {
            if (ttp.Contains(container.Name))
            {
                continue;
            }

            Check(scan, report, $"container {container.Name} (name and metadata)", container.Name + "\n" + Pairs(container.Properties.Metadata));
            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var item in client.GetBlobsAsync(BlobTraits.Metadata | BlobTraits.Tags, BlobStates.Snapshots | BlobStates.Uncommitted, null, CancellationToken.None))
            {
                var blob = item.Snapshot is null ? client.GetBlobClient(item.Name) : client.GetBlobClient(item.Name).WithSnapshot(item.Snapshot);
                string where = $"blob {container.Name}/{item.Name}" + (item.Snapshot is null ? "" : $" (snapshot {item.Snapshot})");
                var tags = item.Tags ?? await TagsAsync(blob);
                var p = item.Properties;
                Check(scan, report, where + " (name, metadata, tags and headers)",
                    $"{item.Name}\n{Pairs(item.Metadata)}\n{Pairs(tags)}\n{p.ContentType}\n{p.ContentDisposition}\n{p.ContentEncoding}\n{p.ContentLanguage}\n{p.CacheControl}");
                byte[] content;
                try
                {
                    content = (await blob.DownloadContentAsync()).Value.Content.ToArray();
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    continue; // only uncommitted blocks (their content cannot be read back), or deleted meanwhile
                }

                Check(scan, report, where, IdentifierScan.BlobText(content));
                report.Add("blobs");
                report.Add("blob bytes", content.Length);
            }
        }
    }

    public static async Task ScanCosmosAsync(IdentifierScan scan, CosmosClient cosmos, LeakScanReport report, bool includeTtp)
    {
        var ttp = TtpCosmosContainers.ToHashSet(StringComparer.Ordinal);
        using var databases = cosmos.GetDatabaseQueryIterator<DatabaseProperties>();
        while (databases.HasMoreResults)
        {
            foreach (var d in await databases.ReadNextAsync())
            {
                var db = cosmos.GetDatabase(d.Id);
                using var containers = db.GetContainerQueryIterator<ContainerProperties>();
                while (containers.HasMoreResults)
                {
                    foreach (var c in await containers.ReadNextAsync())
                    {
                        if (ttp.Contains(c.Id) && !includeTtp)
                        {
                            continue;
                        }

                        using var docs = db.GetContainer(c.Id).GetItemQueryIterator<System.Text.Json.JsonElement>("SELECT * FROM c");
                        while (docs.HasMoreResults)
                        {
                            foreach (var doc in await docs.ReadNextAsync())
                            {
                                string id = doc.TryGetProperty("id", out var idValue) ? idValue.ToString() : "?";
                                Check(scan, report, $"cosmos {d.Id}/{c.Id} document {id}", doc.GetRawText());
                                report.Add("cosmos documents");
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Every message of every queue. With <paramref name="receive"/> (the app stopped), messages are received with a
    /// visibility timeout and so all are read, not only the first 32 a peek returns; they reappear afterwards.
    /// </summary>
    public static async Task ScanQueuesAsync(IdentifierScan scan, QueueServiceClient service, LeakScanReport report, bool receive)
    {
        await foreach (var queue in service.GetQueuesAsync(global::Azure.Storage.Queues.Models.QueueTraits.Metadata))
        {
            Check(scan, report, $"queue {queue.Name} (name and metadata)", queue.Name + "\n" + Pairs(queue.Metadata));
            var client = service.GetQueueClient(queue.Name);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                var batch = receive
                    ? (await client.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(60))).Value.Select(m => (m.MessageId, m.Body))
                    : (await client.PeekMessagesAsync(32)).Value.Select(m => (m.MessageId, m.Body));
                bool any = false;
                foreach (var (id, body) in batch)
                {
                    if (!seen.Add(id))
                    {
                        continue;
                    }

                    any = true;
                    string where = $"queue {queue.Name} message {id}";
                    string text = body.ToString();
                    Check(scan, report, where, text);
                    if (TryBase64(text) is { } bytes)
                    {
                        Check(scan, report, where + " (Base64-decoded)", IdentifierScan.BlobText(bytes));
                    }

                    report.Add("queue messages");
                }

                if (!receive || !any)
                {
                    break;
                }
            }
        }
    }

    public static async Task ScanTablesAsync(IdentifierScan scan, TableServiceClient service, LeakScanReport report)
    {
        await foreach (var table in service.QueryAsync())
        {
            Check(scan, report, $"table {table.Name} (name)", table.Name);
            await foreach (var entity in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                var text = new StringBuilder();
                foreach (var (k, v) in entity)
                {
                    text.Append(k).Append('=').Append(v is byte[] b ? IdentifierScan.BlobText(b) : v?.ToString()).Append('\n');
                }

                Check(scan, report, $"table {table.Name} entity {entity.PartitionKey}/{entity.RowKey}", text.ToString());
                report.Add("table entities");
            }
        }
    }

    private static void Check(IdentifierScan scan, LeakScanReport report, string where, string text)
    {
        report.Findings.AddRange(scan.Find(text, where));
        report.Places.Add(where);
        report.Add("characters", text.Length);
    }

    private static async Task<IDictionary<string, string>?> TagsAsync(BlobClient blob)
    {
        try
        {
            return (await blob.GetTagsAsync()).Value.Tags;
        }
        catch (RequestFailedException)
        {
            return null; // a snapshot, or only uncommitted blocks
        }
    }

    private static string Pairs(IDictionary<string, string>? values) =>
        values is null ? "" : string.Join('\n', values.Select(kv => $"{kv.Key}={kv.Value}"));

    private static byte[]? TryBase64(string text)
    {
        if (text.Length == 0 || text.Length % 4 != 0)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>How far a <see cref="LeakScan"/> goes beyond the policy.</summary>
internal sealed record LeakScanOptions
{
    /// <summary>Scan the TTP-only Cosmos containers too (they may hold identifiers by policy; today they hold none).</summary>
    public bool IncludeTtpCosmosContainers { get; init; }

    /// <summary>Read every queue message by receiving it (only when the app is stopped); otherwise the first 32 are peeked.</summary>
    public bool ReceiveQueueMessages { get; init; } = true;
}
