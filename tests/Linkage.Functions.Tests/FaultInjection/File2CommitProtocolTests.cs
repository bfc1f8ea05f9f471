using Azure;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.FaultInjection;

/// <summary>
/// The File 2 intake stopped between each two of its steps (decision 0603) and run again ends in exactly the state of an
/// uninterrupted run: every blob of every processor and curated container, every catalogue document. Until the commit,
/// readers see no version.
/// </summary>
public sealed class File2CommitProtocolTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private static readonly Dictionary<string, SortedDictionary<string, string>> Baselines = [];
    private readonly File2Scenario _scenario = new(stack.Stack);

    public static TheoryData<string> Steps => new(File2Steps.All);

    public void Dispose() => _scenario.Dispose();

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task Stopped_at_a_step_and_run_again_ends_as_an_uninterrupted_run(string step)
    {
        var expected = await BaselineAsync();

        await StartAsync();
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2());
        await using (var faulty = App(new() { ["Faults:At"] = step, ["Faults:Action"] = "Throw" }))
        {
            var fault = await Assert.ThrowsAsync<InjectedFaultException>(() => faulty.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None));
            Assert.Equal(step, fault.Step);

            // Before the commit the version does not exist for readers, whatever was staged under its folder.
            var visible = await File2Scenario.VisibleAsync(faulty.Services.GetRequiredService<CurationCatalogue>());
            bool committed = step is File2Steps.Committed or File2Steps.CurrentVersionSet;
            Assert.Equal(committed ? 1 : 0, visible.Versions);
            Assert.Equal(step == File2Steps.CurrentVersionSet ? 1 : null, visible.Current);
            if (step == File2Steps.Staged)
            {
                Assert.NotEmpty(await _scenario.CuratedBlobsAsync()); // staged but not committed: present, not published
            }
        }

        await using var restarted = App();
        var result = await restarted.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);

        Assert.Equal(step is File2Steps.Committed or File2Steps.CurrentVersionSet ? "AlreadyCurated" : "Curated", result.Outcome);
        AssertSameState(expected, await _scenario.StateAsync(etag));
    }

    [Fact]
    public async Task Stopped_at_every_step_in_turn_still_ends_as_an_uninterrupted_run()
    {
        var expected = await BaselineAsync();

        await StartAsync();
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2());
        foreach (var step in File2Steps.All)
        {
            await using var faulty = App(new() { ["Faults:At"] = step, ["Faults:Action"] = "Throw" });
            try
            {
                await faulty.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);
            }
            catch (InjectedFaultException)
            {
            }
        }

        await using var last = App();
        await last.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);
        AssertSameState(expected, await _scenario.StateAsync(etag));
    }

    [Fact]
    public async Task Two_hosts_running_one_delivery_at_once_make_one_version()
    {
        var expected = await BaselineAsync();

        await StartAsync();
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2());
        await using var first = App();
        await using var second = App();
        var runs = new[] { first, second }.Select(app => Task.Run(async () =>
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return (await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None)).Outcome;
                }
                catch (Exception e) when (attempt < 3 && e is RequestFailedException or InvalidOperationException)
                {
                    // The other host archived the delivery under this one (its read or move failed): its workflow retries,
                    // and a retry that started before the other host's commit can lose the same race once more.
                }
            }
        })).ToList();
        var outcomes = await Task.WhenAll(runs);

        Assert.All(outcomes, o => Assert.Contains(o, new[] { "Curated", "AlreadyCurated" }));
        var catalogue = first.Services.GetRequiredService<CurationCatalogue>();
        Assert.Equal(1, (await catalogue.GetDatasetAsync(File2Scenario.Dataset, CancellationToken.None))!.LatestVersion);
        Assert.Single(await catalogue.ReservationsAsync(File2Scenario.Dataset, CancellationToken.None));
        AssertSameState(expected, await _scenario.StateAsync(etag));
    }

    [Fact]
    public async Task Concurrent_reservations_of_one_delivery_get_one_number_and_other_deliveries_the_next()
    {
        await StartAsync();
        await using var app = App();
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        Assert.True(app.Services.GetRequiredService<DatasetSpecs>().TryGet(File2Scenario.Dataset, out var spec));
        var date = new DateOnly(2026, 12, 3);

        var same = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => catalogue.ReserveAsync(spec, "processor-file2-inbox/x.csv", "\"0x1\"", date, CancellationToken.None))));
        var others = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => catalogue.ReserveAsync(spec, $"processor-file2-inbox/y{i}.csv", "\"0x1\"", date, CancellationToken.None))));

        Assert.Single(same.Select(r => r.Version).Distinct());
        Assert.Equal(5, others.Select(r => r.Version).Concat([same[0].Version]).Distinct().Count());
        Assert.Equal(5, (await catalogue.GetDatasetAsync(File2Scenario.Dataset, CancellationToken.None))!.LatestVersion); // numbers taken by the losers were handed back
        Assert.Equal(5, (await catalogue.ReservationsAsync(File2Scenario.Dataset, CancellationToken.None)).Count);
        Assert.All(await catalogue.ReservationsAsync(File2Scenario.Dataset, CancellationToken.None), r => Assert.Equal(DatasetVersionState.Processing, r.State));
        Assert.Empty(await catalogue.VersionsAsync(File2Scenario.Dataset, CancellationToken.None)); // reserved is not published
    }

    [Fact]
    public async Task A_retry_rejected_after_an_interrupted_attempt_staged_its_outputs_deletes_them_and_marks_the_reservation_rejected()
    {
        await StartAsync();

        // 2% bad rows: accepted while up to 5% may be bad, rejected once the limit is back at 1%.
        var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2(badRows: 40));
        await using (var lenient = App(new() { ["Faults:At"] = File2Steps.Staged, ["File2:MaxRejectShare"] = "0.05" }))
        {
            await Assert.ThrowsAsync<InjectedFaultException>(() => lenient.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None));
        }

        Assert.Contains(await _scenario.CuratedBlobsAsync(), n => n.StartsWith($"{File2Scenario.Dataset}/v0001/", StringComparison.Ordinal));

        await using var strict = App();
        var retry = await strict.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);

        Assert.Equal("Rejected", retry.Outcome);
        Assert.Empty(await _scenario.CuratedBlobsAsync());
        var catalogue = strict.Services.GetRequiredService<CurationCatalogue>();
        var reservation = Assert.Single(await catalogue.ReservationsAsync(File2Scenario.Dataset, CancellationToken.None));
        Assert.Equal(DatasetVersionState.Rejected, reservation.State);
        Assert.Equal(1, reservation.Version);
        Assert.Equal((0, null), await File2Scenario.VisibleAsync(catalogue));
        Assert.True((await _scenario.Blobs.GetBlobContainerClient(ProcessorStorage.File2Quarantine).GetBlobClient(File2Scenario.BlobName + ".report.json").ExistsAsync()).Value);
    }

    private async Task<SortedDictionary<string, string>> BaselineAsync()
    {
        // One uninterrupted run per stack (the keys are the stack's), reused by every test of this class.
        if (!Baselines.TryGetValue(stack.Stack.DataDirectory, out var state))
        {
            await StartAsync();
            var (blob, etag) = await _scenario.DeliverAsync(File2Scenario.File2());
            await using var app = App();
            var result = await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);
            Assert.Equal("Curated", result.Outcome);
            Assert.NotNull(result.Version!.RejectReport); // the scenario exercises every output
            state = await _scenario.StateAsync(etag);
            Baselines[stack.Stack.DataDirectory] = state;
        }

        return state;
    }

    private async Task StartAsync()
    {
        await _scenario.ResetAsync();
        var (permitted, withdrawn, _) = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(permitted, withdrawn);
    }

    private FunctionAppFactory App(Dictionary<string, string?>? settings = null) => new(stack.Stack, "ServicesOnly", settings: settings);

    private static void AssertSameState(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, value) in expected)
        {
            Assert.True(value == actual[key], $"{key} differs:\nexpected {value}\nactual   {actual[key]}");
        }
    }
}
