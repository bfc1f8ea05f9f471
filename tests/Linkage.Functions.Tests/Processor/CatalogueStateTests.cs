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
        await container.UpsertItemAsync(only with { CitationId = "c2" }, new PartitionKey(ds));
        var raw = (await container.ReadItemAsync<JsonElement>("v0001", new PartitionKey(ds))).Resource;
        Assert.Equal("Curated", raw.GetProperty("state").GetString());
    }
}
