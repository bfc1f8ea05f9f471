using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Azure.Cosmos;
using Linkage.DevStack;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Tests.FaultInjection;

/// <summary>
/// One File 2 delivery on a stack of a test class's own, and everything needed to compare two runs of it: a permission
/// snapshot naming its people, the delivery itself, a reset of every processor and curated container and of the
/// catalogue, and the final state (every blob, every catalogue document) with timestamps and the delivery's ETag masked.
/// </summary>
internal sealed class File2Scenario(LocalStack stack) : IDisposable
{
    private readonly CosmosClient _cosmos = CosmosClientFactory.Create(new Uri(stack.CosmosEndpoint), stack.CosmosKey);

    public const string Dataset = "nhse_lsoa11_dataset_mapping";
    public const string BlobName = Dataset + "/lsoa_2026.csv";
    public const string TokenKeyVersion = "ttp/v1";

    // A fixed TTP key: the same tokens in every run, so two runs' outputs compare byte for byte.
    private static readonly byte[] TtpKey = SHA256.HashData("file2-fault-injection"u8);

    public BlobServiceClient Blobs { get; } = new(stack.StorageConnectionString);

    /// <summary>TTP tokens of people in the snapshot (all permitted), then of withdrawn people, then of people in no snapshot.</summary>
    public static (List<string> Permitted, List<string> Withdrawn, List<string> Unknown) People(int permitted = 200, int withdrawn = 10, int unknown = 4)
    {
        using var ttp = new BlockTokenCipher(TtpKey, TokenKeyVersion);
        return (
            Enumerable.Range(0, permitted).Select(i => ttp.Encrypt($"P{i}")).ToList(),
            Enumerable.Range(0, withdrawn).Select(i => ttp.Encrypt($"W{i}")).ToList(),
            Enumerable.Range(0, unknown).Select(i => ttp.Encrypt($"U{i}")).ToList());
    }

    /// <summary>
    /// A File 2 of <paramref name="rows"/> rows over those people: some duplicates, a few bad dates (so a rejects report
    /// is written), withdrawn and unknown people.
    /// </summary>
    /// <param name="lsoaCodes">Distinct LSOAs: 400 makes rare ones (a version the disclosure review must see); 5, the default, none (released at commit).</param>
    public static string File2(int rows = 2000, int unknownRows = 20, int badRows = 5, (List<string> Permitted, List<string> Withdrawn, List<string> Unknown)? people = null, int lsoaCodes = 5)
    {
        var (permitted, withdrawn, unknown) = people ?? People();
        var random = new Random(42);
        var sb = new StringBuilder("cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt\n");
        string[] origins = ["HES APC", "HES A&E", "HES OP", "GDPPR"];
        for (int i = 0; i < rows; i++)
        {
            string token = i < unknownRows ? unknown[i % unknown.Count] : i % 50 == 0 ? withdrawn[i % withdrawn.Count] : permitted[random.Next(permitted.Count)];
            string date = i >= rows - badRows ? "2020-02-30" : new DateOnly(2015, 1, 1).AddDays(random.Next(2000)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{token},{date},E01{random.Next(lsoaCodes):D6},{origins[random.Next(4)]},2021-01-01\n");
        }

        return sb.ToString();
    }

    /// <summary>Writes the one study's permission snapshot the processor reads (fixed creation time, so runs compare).</summary>
    public async Task SeedSnapshotAsync(IEnumerable<string> permitted, IEnumerable<string> withdrawn, int file1Version = 1, string keyVersion = TokenKeyVersion, string study = "ALSPAC")
    {
        var writer = new PermissionSnapshotWriter(new PermissionSnapshotHeader(study, file1Version, keyVersion, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var all = PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.SmallArea;
        foreach (var t in permitted)
        {
            writer.Add(t, all);
        }

        foreach (var t in withdrawn)
        {
            writer.Add(t, all & ~PermissionFlags.Active);
        }

        using var buffer = new MemoryStream();
        await writer.WriteAsync(buffer, CancellationToken.None);
        var container = Blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox);
        await container.CreateIfNotExistsAsync();
        string name = TtpProcessorContract.PermissionSnapshot(study, file1Version, new DateOnly(2026, 1, 1));
        await container.GetBlobClient(name).UploadAsync(new BinaryData(buffer.ToArray()), overwrite: true);

        // The processor reads only what the TTP's signed manifest names (decision 0604): sign one as the TTP would.
        await using var ttp = new FunctionAppFactory(stack, "ServicesOnly");
        using var signer = await ttp.Services.GetRequiredService<KeyRingProvider>().GetManifestSignerAsync(CancellationToken.None);
        var snapshot = new ManifestFile(name, buffer.Length, Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray())));
        var manifest = new StudyManifest
        {
            Study = study, Version = file1Version, FileDate = new DateOnly(2026, 1, 1), SourceETag = "\"0x0\"", TokenKeyVersion = keyVersion,
            CommittedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), PermissionSnapshot = snapshot,
            IdMapping = new ManifestFile(TtpProcessorContract.IdMapping(study, file1Version, new DateOnly(2026, 1, 1)), 0, ""), // the File 2 intake reads none
        };
        await container.GetBlobClient(TtpProcessorContract.SigningKeyBlob).UploadAsync(BinaryData.FromString(signer.PublicKeyPem), overwrite: true);
        await container.GetBlobClient(TtpProcessorContract.Manifest(study)).UploadAsync(BinaryData.FromObjectAsJson(signer.Sign(manifest)), overwrite: true);
    }

    /// <summary>Drops the File 2 into the inbox; returns the blob and its ETag, as a trigger hands them over.</summary>
    public async Task<(BlobClient Blob, ETag ETag)> DeliverAsync(string content, IDictionary<string, string>? metadata = null, string blobName = BlobName)
    {
        var container = Blobs.GetBlobContainerClient(ProcessorStorage.File2Inbox);
        await container.CreateIfNotExistsAsync();
        var blob = container.GetBlobClient(blobName);
        var uploaded = await blob.UploadAsync(new BinaryData(Encoding.UTF8.GetBytes(content)), new BlobUploadOptions { Metadata = metadata });
        return (blob, uploaded.Value.ETag);
    }

    /// <summary>A fresh start: every blob of the processor and curated containers and every catalogue document deleted (keys kept).</summary>
    public async Task ResetAsync()
    {
        await foreach (var c in Blobs.GetBlobContainersAsync())
        {
            if (IsCompared(c.Name))
            {
                var container = Blobs.GetBlobContainerClient(c.Name);
                await foreach (var b in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, CancellationToken.None))
                {
                    await container.DeleteBlobIfExistsAsync(b.Name);
                }
            }
        }

        var catalogue = await CatalogueAsync();
        foreach (var doc in await AllAsync(catalogue))
        {
            await catalogue.DeleteItemAsync<JsonObject>(doc["id"]!.GetValue<string>(), new PartitionKey(doc["datasetId"]!.GetValue<string>()));
        }

        // A new world: the processor has used no manifest yet (its marks would refuse this scenario's lower versions).
        var marks = await new CosmosDatabase(_cosmos, "linkage").ContainerAsync(ManifestHighWaterMarks.ContainerId, "/study", CancellationToken.None);
        foreach (var doc in await AllAsync(marks))
        {
            await marks.DeleteItemAsync<JsonObject>(doc["id"]!.GetValue<string>(), new PartitionKey(doc["study"]!.GetValue<string>()));
        }
    }

    /// <summary>
    /// Every blob of the processor and curated containers (name → content hash, content type, metadata) and every
    /// catalogue document, with timestamps, Cosmos system properties, the delivery's ETag and its reservation id masked.
    /// </summary>
    public async Task<SortedDictionary<string, string>> StateAsync(ETag etag)
    {
        string tag = etag.ToString().Trim('"');
        string reservation = CurationCatalogue.ReservationId(Dataset, $"{ProcessorStorage.File2Inbox}/{BlobName}", etag.ToString());
        string Mask(string s) => s.Replace(tag, "<etag>", StringComparison.Ordinal).Replace(reservation, "<reservation>", StringComparison.Ordinal);
        var state = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var c in Blobs.GetBlobContainersAsync())
        {
            // processor-from-ttp holds the test's own seed (a signed manifest, whose ECDSA signature differs every time).
            if (!IsCompared(c.Name) || c.Name == TtpStorage.ProcessorInbox)
            {
                continue;
            }

            var container = Blobs.GetBlobContainerClient(c.Name);
            await foreach (var b in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, null, CancellationToken.None))
            {
                string text = Mask((await container.GetBlobClient(b.Name).DownloadContentAsync()).Value.Content.ToString());
                // The archive copy's source ETag differs with every upload of the same content (decision 0106): not compared.
                string meta = string.Join(";", b.Metadata.Where(m => m.Key != Linkage.Azure.Storage.BlobVersionMove.SourceETagMetadata).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}"));
                state[$"blob {c.Name}/{b.Name}"] = $"{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))} {b.Properties.ContentType} {meta}";
            }
        }

        foreach (var doc in await AllAsync(await CatalogueAsync()))
        {
            foreach (var name in doc.Select(p => p.Key).Where(k => k.StartsWith('_') || k is "curatedAt" or "reservedAt" or "releasedAt" or "reviews").ToList())
            {
                doc.Remove(name);
            }

            state[Mask($"doc {doc["id"]}")] = Mask(doc.ToJsonString());
        }

        return state;
    }

    /// <summary>What readers can see of the dataset: its committed versions and current version.</summary>
    public static async Task<(int Versions, int? Current)> VisibleAsync(CurationCatalogue catalogue) =>
        ((await catalogue.VersionsAsync(Dataset, CancellationToken.None)).Count, (await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))?.CurrentVersion);

    public async Task<List<string>> CuratedBlobsAsync() => await Blobs.GetBlobContainerClient(ProcessorStorage.Curated).ListNamesAsync();

    private static bool IsCompared(string container) => container.StartsWith("processor-", StringComparison.Ordinal) || container.StartsWith("tre-", StringComparison.Ordinal);

    public void Dispose() => _cosmos.Dispose();

    private Task<Container> CatalogueAsync() =>
        new CosmosDatabase(_cosmos, "linkage").ContainerAsync(CurationCatalogue.ContainerId, "/datasetId", CancellationToken.None);

    private static async Task<List<JsonObject>> AllAsync(Container container)
    {
        var list = new List<JsonObject>();
        using var it = container.GetItemQueryIterator<JsonElement>("SELECT * FROM c");
        while (it.HasMoreResults)
        {
            list.AddRange((await it.ReadNextAsync()).Select(e => JsonNode.Parse(e.GetRawText())!.AsObject()));
        }

        return list.OrderBy(d => d["id"]!.GetValue<string>(), StringComparer.Ordinal).ToList();
    }
}
