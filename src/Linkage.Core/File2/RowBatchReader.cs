using System.Threading.Channels;
using Sylvan.Data.Csv;

namespace Linkage.File2;

/// <summary>
/// Rows copied out of the CSV reader (one char buffer plus start and length per field) with the reader thread's verdict
/// on each: whether it is kept, its key, whether its geography is blanked, and its generalised values.
/// </summary>
internal sealed class RowBatch(int capacity, int fields, int generalised, int riskGroupings, int codeColumns)
{
    private char[] _generalisedChars = new char[Math.Max(1, capacity * generalised * 8)];
    private readonly int[] _generalisedStart = new int[capacity * generalised];
    private readonly int[] _generalisedLength = new int[capacity * generalised];
    private int _generalisedUsed;

    private char[] _chars = new char[capacity * 64];
    private readonly int[] _start = new int[capacity * fields];
    private readonly int[] _length = new int[capacity * fields];
    private readonly int[] _fieldCount = new int[capacity];
    private int _used;

    public int Capacity => capacity;

    public int Count { get; private set; }

    public int FieldCount(int row) => _fieldCount[row];

    /// <summary>Per row: kept (and if so its key and whether its geography is blanked), or left out.</summary>
    public bool[] Kept { get; } = new bool[capacity];

    public bool[] BlankGeography { get; } = new bool[capacity];

    public Linkage.Permissions.TokenBytes[] Keys { get; } = new Linkage.Permissions.TokenBytes[capacity];

    /// <summary>Per row, before filtering: whether its key parsed as a token, and the permission flags looked up for it
    /// (-1 when unknown), for the whole batch at once (see <see cref="Linkage.Permissions.PermissionSnapshotSet.GetFlags"/>).</summary>
    public bool[] KeyParsed { get; } = new bool[capacity];

    public int[] Flags { get; } = new int[capacity];

    /// <summary>Per row: the key's index in the permission snapshot set (-1 when unknown), for the distinct-people count.</summary>
    public int[] Participant { get; } = new int[capacity];

    /// <summary>Per kept row and risk grouping: the hash of its risk key (see <see cref="RiskTally.KeyHash"/>).</summary>
    public ulong[] RiskHashes { get; } = new ulong[capacity * Math.Max(1, riskGroupings)];

    /// <summary>Per kept row and code column: the value's index in its <see cref="CodeList"/> (-1 when empty).</summary>
    public int[] Codes { get; } = new int[capacity * Math.Max(1, codeColumns)];

    /// <summary>Characters of every field of a row (at most <c>fields</c> of them), for sizing its output.</summary>
    public int RowChars(int row) => _rowChars[row];

    private readonly int[] _rowChars = new int[capacity];

    public ReadOnlySpan<char> Generalised(int row, int index) =>
        _generalisedChars.AsSpan(_generalisedStart[(row * generalised) + index], _generalisedLength[(row * generalised) + index]);

    public void SetGeneralised(int row, int index, ReadOnlySpan<char> value)
    {
        if (_generalisedUsed + value.Length > _generalisedChars.Length)
        {
            Array.Resize(ref _generalisedChars, Math.Max(_generalisedChars.Length * 2, _generalisedUsed + value.Length));
        }

        value.CopyTo(_generalisedChars.AsSpan(_generalisedUsed));
        _generalisedStart[(row * generalised) + index] = _generalisedUsed;
        _generalisedLength[(row * generalised) + index] = value.Length;
        _generalisedUsed += value.Length;
    }

    public ReadOnlySpan<char> Field(int row, int ordinal) => _chars.AsSpan(_start[(row * fields) + ordinal], _length[(row * fields) + ordinal]);

    /// <summary>Copies the reader's current record (at most <c>fields</c> of its fields; the true count is kept).</summary>
    public void Add(CsvDataReader reader)
    {
        int row = Count++;
        int count = reader.RowFieldCount;
        _fieldCount[row] = count;
        int n = Math.Min(count, fields);
        int first = _used;
        for (int o = 0; o < n; o++)
        {
            ReadOnlySpan<char> value = reader.GetFieldSpan(o);
            if (_used + value.Length > _chars.Length)
            {
                Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _used + value.Length));
            }

            value.CopyTo(_chars.AsSpan(_used));
            _start[(row * fields) + o] = _used;
            _length[(row * fields) + o] = value.Length;
            _used += value.Length;
        }

        _rowChars[row] = _used - first;
    }

    /// <summary>Records parsed before this batch's first row (blank lines included), so row r is record <c>FirstRecord + r + 1</c>.</summary>
    public long FirstRecord { get; set; }

    /// <summary>What the worker counted while filtering this batch (merged in input order by the consumer).</summary>
    public BatchCounts? Counts { get; set; }

    /// <summary>The batch's kept rows, composed and encrypted by the worker, ready to stage in input order.</summary>
    public OutputBatch? Output { get; set; }

    /// <summary>Completed by the worker: true when processed, false when skipped (a failure or a stop).</summary>
    internal TaskCompletionSource<bool> Done { get; set; } = new();

    public void Clear()
    {
        Count = 0;
        _used = 0;
        _generalisedUsed = 0;
        Counts?.Clear();
        Output?.Reset();
    }
}

/// <summary>
/// Parses the CSV on one thread into <see cref="RowBatch"/>es and hands each to one of <c>workers</c> threads, which
/// runs <c>process</c> on the whole batch (checks, permissions, composing its output); batches come out of
/// <see cref="Batches"/> in input order whatever order the workers finish in. Parsing is the only sequential stage:
/// a batch stays on one core from its checks to its encrypted output, instead of crossing cores between stages, and
/// the workers share the cores with the parser evenly whatever the mix of work. Batches are recycled, so memory stays
/// at a few batches whatever the file size.
/// </summary>
/// <param name="process">Runs on a worker; the int is the worker's index (0 ≤ i &lt; workers), for its own scratch.</param>
/// <param name="heldBatches">Batches the consumer may hold before returning any (the identifier sample): the pool
/// grows by that many, or the parser would wait for a batch that never comes back.</param>
internal sealed class RowBatchReader(CsvDataReader reader, Func<RowBatch> newBatch, Action<RowBatch, int> process, int workers = 1, int heldBatches = 1) : IDisposable
{
    private const int InFlight = 4;

    private readonly Channel<RowBatch> _parsed = Channel.CreateBounded<RowBatch>(new BoundedChannelOptions(InFlight) { SingleReader = workers == 1, SingleWriter = true });
    private readonly Channel<RowBatch> _ordered = Channel.CreateBounded<RowBatch>(new BoundedChannelOptions(InFlight + Math.Max(1, workers)) { SingleReader = true, SingleWriter = true });
    private readonly Channel<RowBatch> _full = Channel.CreateBounded<RowBatch>(new BoundedChannelOptions(InFlight) { SingleReader = true, SingleWriter = true });
    private readonly Channel<RowBatch> _free = Channel.CreateUnbounded<RowBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly CancellationTokenSource _stop = new();
    private int _created;
    private Exception? _failure;

    /// <summary>A single-worker reader with a filter that needs no worker index.</summary>
    public RowBatchReader(CsvDataReader reader, Func<RowBatch> newBatch, Action<RowBatch> filter, int heldBatches = 1)
        : this(reader, newBatch, (batch, _) => filter(batch), 1, heldBatches)
    {
    }

    /// <summary>Records parsed so far; after a failure, the failing record is the next one.</summary>
    public long RowsRead { get; private set; }

    /// <summary>The exception that stopped parsing (bad UTF-8, malformed CSV) or processing, if any (the first one).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public ChannelReader<RowBatch> Batches => _full.Reader;

    /// <summary>Call only after <see cref="RunAsync"/> has completed.</summary>
    public void Dispose() => _stop.Dispose();

    public void Return(RowBatch batch)
    {
        batch.Clear();
        _free.Writer.TryWrite(batch);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        var tasks = new List<Task>
        {
            Task.Run(() => ParseAsync(stop.Token), CancellationToken.None),
            Task.Run(() => HandOnInOrderAsync(cancellationToken), CancellationToken.None),
        };
        for (int w = 0; w < Math.Max(1, workers); w++)
        {
            int worker = w;
            tasks.Add(Task.Run(() => WorkAsync(worker, stop.Token), CancellationToken.None));
        }

        await Task.WhenAll(tasks);
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        _stop.Cancel();
    }

    private async Task ParseAsync(CancellationToken cancellationToken)
    {
        try
        {
            var batch = await NextFreeAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (batch.Count == 0)
                {
                    batch.FirstRecord = RowsRead;
                }

                batch.Add(reader);
                RowsRead++;
                if (batch.Count == batch.Capacity)
                {
                    await HandOutAsync(batch, cancellationToken);
                    batch = await NextFreeAsync(cancellationToken);
                }
            }

            if (batch.Count > 0)
            {
                await HandOutAsync(batch, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The consumer stopped early (e.g. an identifier column) or a worker failed; nothing more to read. Any other
            // cancellation (an input stream's timeout surfaces as TaskCanceledException) is a failure, never an early end.
        }
        catch (Exception e)
        {
            // Not a stop: the batches before the bad record are still processed and handed on, then the failure reported.
            Interlocked.CompareExchange(ref _failure, e, null);
        }
        finally
        {
            _parsed.Writer.TryComplete();
            _ordered.Writer.TryComplete();
        }
    }

    /// <summary>To the workers first, then to the ordering queue: every batch the orderer waits on is sure to be completed.</summary>
    private async ValueTask HandOutAsync(RowBatch batch, CancellationToken cancellationToken)
    {
        batch.Done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _parsed.Writer.WriteAsync(batch, cancellationToken);
        await _ordered.Writer.WriteAsync(batch, cancellationToken);
    }

    private async Task WorkAsync(int worker, CancellationToken cancellationToken)
    {
        // Drains every batch handed out, even after a stop, so the orderer never waits on one nobody completes.
        await foreach (var batch in _parsed.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                batch.Done.TrySetResult(false);
                continue;
            }

            try
            {
                process(batch, worker);
                batch.Done.TrySetResult(true);
            }
            catch (Exception e)
            {
                Fail(e);
                batch.Done.TrySetResult(false);
            }
        }
    }

    /// <summary>Hands processed batches on in input order; stops at the first batch that was not processed.</summary>
    private async Task HandOnInOrderAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in _ordered.Reader.ReadAllAsync(CancellationToken.None))
            {
                if (!await batch.Done.Task)
                {
                    break;
                }

                await _full.Writer.WriteAsync(batch, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The consumer stopped reading.
        }
        finally
        {
            _full.Writer.TryComplete();
            _stop.Cancel(); // after a failed batch, the parser stops too
        }
    }

    private async ValueTask<RowBatch> NextFreeAsync(CancellationToken cancellationToken)
    {
        if (_free.Reader.TryRead(out var batch))
        {
            return batch;
        }

        if (_created < (2 * InFlight) + Math.Max(1, workers) + 3 + heldBatches)
        {
            _created++;
            return newBatch();
        }

        return await _free.Reader.ReadAsync(cancellationToken);
    }
}
