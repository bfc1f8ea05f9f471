using System.Text.Json;
using Linkage.Azure.Cosmos;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Processor;

/// <summary>Version states are an enum stored by name: documents written as strings before still read, and only Curated records are versions.</summary>
public sealed class CatalogueStateTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    [Fact]
    public async Task Stored_state_strings_read_as_the_enum_and_only_curated_records_are_versions()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        var container = await new CosmosDatabase(cosmos, "linkage").ContainerAsync(CurationCatalogue.ContainerId, "/datasetId", CancellationToken.None);
        const string ds = "legacy_dataset";
        foreach (var (id, version, state) in new[] { ("v0001", 1, "Curated"), ("v0002", 2, "Rejected"), ("v0003", 3, "Processing") })
        {
            // As the code before decision 0603 wrote them: the state as a plain string.
            string json = $$"""{"id":"{{id}}","datasetId":"{{ds}}","version":{{version}},"state":"{{state}}","versionDate":"2025-01-01","sourceBlob":"b{{version}}","sourceETag":"e","citationId":"c"}""";
            await container.CreateItemAsync(JsonDocument.Parse(json).RootElement, new PartitionKey(ds));
        }

        var versions = await catalogue.VersionsAsync(ds, CancellationToken.None);

        var only = Assert.Single(versions);
        Assert.Equal(DatasetVersionState.Curated, only.State);
        Assert.Null(await catalogue.GetVersionAsync(ds, 2, CancellationToken.None));
        Assert.Null(await catalogue.GetVersionAsync(ds, 3, CancellationToken.None));

        // Written back, the enum is a name, not a number.
        await container.UpsertItemAsync(only with { SpecSha256 = "c2" }, new PartitionKey(ds));
        var raw = (await container.ReadItemAsync<JsonElement>("v0001", new PartitionKey(ds))).Resource;
        Assert.Equal("Curated", raw.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_delivery_curated_before_reservations_existed_is_already_curated_and_keeps_its_number()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        Assert.True(app.Services.GetRequiredService<DatasetSpecs>().TryGet("nhse_hes_apc", out var spec));
        var (blob, etag) = await stack.CreateBlobServiceClient().PutTextAsync(ProcessorStorage.File2Inbox, "nhse_hes_apc/hes_legacy.csv", "x\n");
        string source = $"{ProcessorStorage.File2Inbox}/{blob.Name}";
        using var cosmos = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), stack.Stack.CosmosKey);
        var container = await new CosmosDatabase(cosmos, "linkage").ContainerAsync(CurationCatalogue.ContainerId, "/datasetId", CancellationToken.None);
        string json = $$"""{"id":"v0007","datasetId":"nhse_hes_apc","version":7,"state":"Curated","versionDate":"2025-06-01","sourceBlob":"{{source}}","sourceETag":{{JsonSerializer.Serialize(etag.ToString())}},"citationId":"c"}""";
        await container.CreateItemAsync(JsonDocument.Parse(json).RootElement, new PartitionKey("nhse_hes_apc"));

        var again = await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);

        // Not curated a second time (the file would now be rejected: "x" is no header): only published and archived.
        Assert.Equal("AlreadyCurated", again.Outcome);
        Assert.Equal(7, again.Version!.Version);
        Assert.Empty(await catalogue.ReservationsAsync("nhse_hes_apc", CancellationToken.None));
        var reserved = await catalogue.ReserveAsync(spec, source, etag.ToString(), new DateOnly(2026, 12, 3), CancellationToken.None);
        Assert.Equal((7, new DateOnly(2025, 6, 1)), (reserved.Version, reserved.VersionDate));
    }
}
