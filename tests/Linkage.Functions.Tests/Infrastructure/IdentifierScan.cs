using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// Looks for identifiers in text, in the spellings a leak could take: as given, in either case, without its spaces, an
/// NHS number grouped 3-3-4, a date with other separators or in ISO order. Reads storage as a leak would sit there:
/// Base64 queue messages decoded, gzip-compressed blobs (the Durable Task hub's large messages) unpacked.
/// </summary>
internal sealed partial class IdentifierScan
{
    private readonly List<string> _variants;

    public IdentifierScan(IEnumerable<string> identifiers)
    {
        _variants = identifiers.SelectMany(Variants).Select(v => v.ToLowerInvariant()).Where(v => v.Length >= 5).Distinct(StringComparer.Ordinal).ToList();
    }

    public int Count => _variants.Count;

    public static IEnumerable<string> Variants(string id)
    {
        yield return id;
        string compact = Regex.Replace(id, @"\s+", "");
        yield return compact;
        if (NhsNumber().IsMatch(compact))
        {
            yield return $"{compact[..3]} {compact[3..6]} {compact[6..]}";
            yield return $"{compact[..3]}-{compact[3..6]}-{compact[6..]}";
        }

        if (Date().Match(id) is { Success: true } d)
        {
            string day = d.Groups[1].Value, month = d.Groups[2].Value, year = d.Groups[3].Value;
            yield return $"{year}-{month}-{day}";
            yield return $"{day}-{month}-{year}";
            yield return $"{day}.{month}.{year}";
            yield return $"{year}/{month}/{day}";
        }
    }

    /// <summary>Fails the test naming <paramref name="where"/> (never the identifier) when any variant occurs in <paramref name="text"/>.</summary>
    public void AssertFree(string text, string where)
    {
        string lower = text.ToLowerInvariant();
        foreach (var v in _variants)
        {
            if (lower.Contains(v, StringComparison.Ordinal))
            {
                Assert.Fail($"An identifier from the input (a spelling of length {v.Length}) was found in {where}.");
            }
        }
    }

    /// <summary>Blob content as text; gzip-compressed content is unpacked first.</summary>
    public static string BlobText(byte[] content)
    {
        if (content.Length > 2 && content[0] == 0x1F && content[1] == 0x8B)
        {
            using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
            using var unpacked = new MemoryStream();
            gzip.CopyTo(unpacked);
            content = unpacked.ToArray();
        }

        return Encoding.Latin1.GetString(content);
    }

    /// <summary>Every entity of every table of the account (the Durable Task hub's history and instances among them).</summary>
    public async Task<int> ScanTablesAsync(string connectionString)
    {
        var service = new TableServiceClient(connectionString);
        int entities = 0;
        await foreach (var table in service.QueryAsync())
        {
            await foreach (var entity in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                AssertFree(string.Join('\n', entity.Select(kv => $"{kv.Key}={kv.Value}")), $"table {table.Name}");
                entities++;
            }
        }

        return entities;
    }

    /// <summary>Every message still on any queue of the account (peeked, and Base64-decoded where it is Base64).</summary>
    public async Task<int> ScanQueuesAsync(string connectionString)
    {
        var service = new QueueServiceClient(connectionString);
        int messages = 0;
        await foreach (var queue in service.GetQueuesAsync())
        {
            foreach (var m in (await service.GetQueueClient(queue.Name).PeekMessagesAsync(32)).Value)
            {
                string text = m.Body.ToString();
                AssertFree(text, $"queue {queue.Name}");
                try
                {
                    AssertFree(BlobText(Convert.FromBase64String(text)), $"queue {queue.Name} (decoded)");
                }
                catch (FormatException)
                {
                    // not Base64
                }

                messages++;
            }
        }

        return messages;
    }

    [GeneratedRegex(@"^\d{10}$")]
    private static partial Regex NhsNumber();

    [GeneratedRegex(@"^(\d{2})/(\d{2})/(\d{4})$")]
    private static partial Regex Date();
}
