using Linkage.Functions.Deliveries;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.FaultInjection;

/// <summary>
/// A File 2 that cannot be matched to its people is held (the delivery workflow waits and retries), never published:
/// too many rows about people in no snapshot, or tokens under another TTP key version than the snapshots'.
/// </summary>
public sealed class File2HoldTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly File2Scenario _scenario = new(stack.Stack);

    public void Dispose() => _scenario.Dispose();

    [Fact]
    public async Task A_file2_mostly_about_unknown_people_is_held_until_their_snapshot_arrives()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People(unknown: 20);
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(unknownRows: 200, people: people)); // 10% unknown
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File2IntakeService>();

        var held = await Assert.ThrowsAsync<UnknownParticipantShareException>(() => intake.ProcessAsync(blob, etag, CancellationToken.None));

        Assert.Equal(FailureClass.Waiting, FailureClassifier.Classify(held));
        string said = FailureClassifier.Describe(held);
        Assert.Contains(File2Scenario.Dataset, said, StringComparison.Ordinal);
        Assert.Contains("10.0% of rows (200 of 2000)", said, StringComparison.Ordinal);
        Assert.Contains("bound 5.0%", said, StringComparison.Ordinal);
        Assert.Contains("File2:MaxUnknownParticipantShare", said, StringComparison.Ordinal); // the whole message survives the operator view
        Assert.Empty(await _scenario.CuratedBlobsAsync()); // the rows are uncommitted blocks only
        Assert.Equal((0, null), await File2Scenario.VisibleAsync(app.Services.GetRequiredService<CurationCatalogue>()));
        Assert.True((await blob.ExistsAsync()).Value, "a held file stays in the inbox");

        // Their File 1 is accepted, the snapshot names them, and the retry publishes the same number.
        await _scenario.SeedSnapshotAsync(people.Permitted.Concat(people.Unknown), people.Withdrawn, file1Version: 2);
        var retry = await intake.ProcessAsync(blob, etag, CancellationToken.None);
        Assert.Equal("Curated", retry.Outcome);
        Assert.Equal(1, retry.Version!.Version);
        Assert.Equal(0, retry.Version.RowsDropped["UnknownParticipant"]);
    }

    [Fact]
    public async Task The_bound_is_a_setting()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People(unknown: 20);
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(unknownRows: 200, people: people));
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["File2:MaxUnknownParticipantShare"] = "0.2" });

        var result = await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);

        Assert.Equal("Curated", result.Outcome);
        Assert.Equal(200, result.Version!.RowsDropped["UnknownParticipant"]);
    }

    [Fact]
    public async Task Tokens_under_another_ttp_key_version_than_the_snapshots_stop_the_run_before_anything_is_written()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(people: people), new Dictionary<string, string> { [File2IntakeService.TokenKeyVersionMetadata] = "ttp_v2" });
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();

        var mismatch = await Assert.ThrowsAsync<TokenKeyVersionMismatchException>(() => app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None));

        Assert.Equal(FailureClass.Waiting, FailureClassifier.Classify(mismatch));
        Assert.Contains("ttp_v2", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("ttp/v1", mismatch.Message, StringComparison.Ordinal);
        Assert.Empty(await _scenario.CuratedBlobsAsync());
        Assert.Empty(await catalogue.ReservationsAsync(File2Scenario.Dataset, CancellationToken.None)); // stopped before the reservation
        Assert.Null(await catalogue.GetDatasetAsync(File2Scenario.Dataset, CancellationToken.None));

        // The same key version, stated as the metadata allows ('/' as '_'), passes.
        var (same, sameTag) = await _scenario.DeliverAsync(File2Scenario.File2(people: people), new Dictionary<string, string> { [File2IntakeService.TokenKeyVersionMetadata] = "ttp_v1" });
        Assert.Equal("Curated", (await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(same, sameTag, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Snapshots_under_two_ttp_key_versions_stop_the_run()
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        await _scenario.SeedSnapshotAsync(people.Permitted.Take(5), [], file1Version: 1, keyVersion: "ttp/v2", study: "UKHLS");
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(people: people));
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");

        var mismatch = await Assert.ThrowsAsync<TokenKeyVersionMismatchException>(() => app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None));

        Assert.Contains("different TTP key versions", mismatch.Message, StringComparison.Ordinal);
        Assert.Empty(await _scenario.CuratedBlobsAsync());
    }
}
