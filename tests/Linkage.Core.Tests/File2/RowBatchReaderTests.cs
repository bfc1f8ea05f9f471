using System.Text;
using Linkage.File2;
using Sylvan.Data.Csv;

namespace Linkage.Core.Tests.File2;

/// <summary>The reader keeps batch order whatever the number of workers and stops cleanly when parsing or a worker fails.</summary>
public sealed class RowBatchReaderTests
{
    private const int BatchRows = 100;

    [Fact]
    public async Task Batches_arrive_filtered_and_in_input_order()
    {
        using var text = Csv(10_050);
        var reader = await CsvDataReader.CreateAsync(text);
        var filtered = new List<int>();
        var rows = new RowBatchReader(reader, NewBatch, batch => filtered.Add(int.Parse(batch.Field(0, 0), System.Globalization.CultureInfo.InvariantCulture)));
        var run = rows.RunAsync(CancellationToken.None);
        var seen = new List<int>();
        await foreach (var batch in rows.Batches.ReadAllAsync())
        {
            for (int r = 0; r < batch.Count; r++)
            {
                seen.Add(int.Parse(batch.Field(r, 0), System.Globalization.CultureInfo.InvariantCulture));
            }

            rows.Return(batch);
        }

        await run;
        Assert.Null(rows.Failure);
        Assert.Equal(Enumerable.Range(0, 10_050), seen);
        Assert.Equal(Enumerable.Range(0, 101).Select(b => b * BatchRows), filtered);
        Assert.Equal(10_050, rows.RowsRead);
    }

    [Fact]
    public async Task A_failing_filter_ends_the_batches_and_is_reported_without_hanging_the_parser()
    {
        using var text = Csv(50_000);
        var reader = await CsvDataReader.CreateAsync(text);
        int filtered = 0;
        var rows = new RowBatchReader(reader, NewBatch, _ =>
        {
            if (++filtered == 3)
            {
                throw new InvalidOperationException("filter bug");
            }
        });
        using var stop = new CancellationTokenSource();
        var run = rows.RunAsync(stop.Token);
        int batches = 0;
        await foreach (var batch in rows.Batches.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            batches++;
            rows.Return(batch);
        }

        // The consumer stops the parser as File2Run does; both stages must then finish.
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, batches);
        Assert.Equal("filter bug", Assert.IsType<InvalidOperationException>(rows.Failure).Message);
        Assert.True(rows.RowsRead < 50_000, "the parser stopped early");
    }

    [Fact]
    public async Task A_parse_failure_is_reported_after_the_rows_before_it()
    {
        var csv = new StringBuilder("id,value\n");
        for (int i = 0; i < 250; i++)
        {
            csv.Append(i).Append(",x\n");
        }

        csv.Append("250,\"unterminated\n");
        using var text = new StringReader(csv.ToString());
        var reader = await CsvDataReader.CreateAsync(text, new CsvDataReaderOptions { MaxBufferSize = 4096, BufferSize = 1024 });
        var rows = new RowBatchReader(reader, NewBatch, _ => { });
        var run = rows.RunAsync(CancellationToken.None);
        int seen = 0;
        await foreach (var batch in rows.Batches.ReadAllAsync())
        {
            seen += batch.Count;
            rows.Return(batch);
        }

        await run;
        Assert.NotNull(rows.Failure);
        Assert.Equal(250, rows.RowsRead);
        Assert.Equal(200, seen); // whole batches before the failure; the part-filled batch is not handed on
    }

    [Fact]
    public async Task Several_workers_process_each_batch_once_and_batches_still_arrive_in_input_order()
    {
        using var text = Csv(20_050);
        var reader = await CsvDataReader.CreateAsync(text);
        var processed = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var workersSeen = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        using var rows = new RowBatchReader(reader, NewBatch, (batch, worker) =>
        {
            // Uneven work, so later batches often finish first.
            Thread.SpinWait(Random.Shared.Next(0, 200_000));
            processed.AddOrUpdate(int.Parse(batch.Field(0, 0), System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
            workersSeen[worker] = true;
        }, workers: 3);
        var run = rows.RunAsync(CancellationToken.None);
        var seen = new List<int>();
        await foreach (var batch in rows.Batches.ReadAllAsync())
        {
            for (int r = 0; r < batch.Count; r++)
            {
                seen.Add(int.Parse(batch.Field(r, 0), System.Globalization.CultureInfo.InvariantCulture));
            }

            Assert.Equal(seen.Count - batch.Count, batch.FirstRecord);
            rows.Return(batch);
        }

        await run;
        Assert.Null(rows.Failure);
        Assert.Equal(Enumerable.Range(0, 20_050), seen);
        Assert.Equal(201, processed.Count);
        Assert.All(processed.Values, n => Assert.Equal(1, n));
        Assert.All(workersSeen.Keys, w => Assert.InRange(w, 0, 2));
    }

    [Fact]
    public async Task With_several_workers_a_failing_batch_ends_the_batches_before_it_and_nothing_hangs()
    {
        using var text = Csv(50_000);
        var reader = await CsvDataReader.CreateAsync(text);
        using var rows = new RowBatchReader(reader, NewBatch, (batch, _) =>
        {
            if (batch.FirstRecord == 700)
            {
                throw new InvalidOperationException("worker bug");
            }

            Thread.SpinWait(Random.Shared.Next(0, 50_000));
        }, workers: 3);
        using var stop = new CancellationTokenSource();
        var run = rows.RunAsync(stop.Token);
        var firsts = new List<long>();
        await foreach (var batch in rows.Batches.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            firsts.Add(batch.FirstRecord);
            rows.Return(batch);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([0, 100, 200, 300, 400, 500, 600], firsts);
        Assert.Equal("worker bug", Assert.IsType<InvalidOperationException>(rows.Failure).Message);
        Assert.True(rows.RowsRead < 50_000, "the parser stopped early");
    }

    private static RowBatch NewBatch() => new(BatchRows, 2, 0, 1, 0);

    private static StringReader Csv(int rows)
    {
        var csv = new StringBuilder("id,value\n");
        for (int i = 0; i < rows; i++)
        {
            csv.Append(i).Append(",v").Append(i % 7).Append('\n');
        }

        return new StringReader(csv.ToString());
    }
}
