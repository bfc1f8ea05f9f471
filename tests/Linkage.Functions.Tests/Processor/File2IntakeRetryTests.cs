using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Processor;

/// <summary>Retries of one File 2 delivery after an attempt that reserved a version number and then failed.</summary>
public sealed class File2IntakeRetryTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    [Fact]
    public async Task A_retry_that_is_rejected_marks_the_interrupted_attempts_version_rejected()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File2IntakeService>();
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        Assert.True(app.Services.GetRequiredService<DatasetSpecs>().TryGet("nhse_lsoa11_dataset_mapping", out var spec));
        var (blob, etag) = await stack.CreateBlobServiceClient().PutTextAsync(
            ProcessorStorage.File2Inbox, "nhse_lsoa11_dataset_mapping/lsoa_2026.csv", "cohortkey_e,record_date\nAAAAAAAAAAAAAAAAAAAAAA,2020-01-01\n");
        string source = $"{ProcessorStorage.File2Inbox}/{blob.Name}";

        // What an attempt that passed every check and then failed in the write-out leaves behind.
        var reserved = await catalogue.ReserveVersionAsync(spec!, source, etag.ToString(), new DateOnly(2026, 11, 25), CancellationToken.None);
        Assert.Equal("Processing", reserved.State);

        var retry = await intake.ProcessAsync(blob, etag, CancellationToken.None);

        Assert.Equal("Rejected", retry.Outcome);
        var after = await catalogue.FindBySourceAsync(spec!.DatasetId, source, etag.ToString(), CancellationToken.None);
        Assert.Equal("Rejected", after!.State);
        Assert.Equal(reserved.Version, after.Version);
        Assert.DoesNotContain(await catalogue.VersionsAsync(spec.DatasetId, CancellationToken.None), v => v.State == "Processing");
    }
}
