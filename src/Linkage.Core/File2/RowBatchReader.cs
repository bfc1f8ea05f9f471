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

    public void Clear()
    {
        Count = 0;
        _used = 0;
        _generalisedUsed = 0;
    }
}

/// <summary>
/// Parses the CSV on one thread into <see cref="RowBatch"/>es, runs the row filter (checks, permissions) on each on a
/// second, and hands them in order over bounded channels to the thread that transforms and stages them. Three
/// stages on two cores let the scheduler balance whichever is heaviest (parsing and filtering are each lighter than
/// curation; together they were heavier). Batches are recycled, so memory stays at a few batches whatever the file
/// size.
/// </summary>
/// <param name="heldBatches">Batches the consumer may hold before returning any (the identifier sample): the pool
/// grows by that many, or the parser would wait for a batch that never comes back.</param>
internal sealed class RowBatchReader(CsvDataReader reader, Func<RowBatch> newBatch, Action<RowBatch> filter, int heldBatches = 1)
{
    private const int InFlight = 4;

    private readonly Channel<RowBatch> _parsed = Channel.CreateBounded<RowBatch>(new BoundedChannelOptions(InFlight) { SingleReader = true, SingleWriter = true });
    private readonly Channel<RowBatch> _full = Channel.CreateBounded<RowBatch>(new BoundedChannelOptions(InFlight) { SingleReader = true, SingleWriter = true });
    private readonly Channel<RowBatch> _free = Channel.CreateUnbounded<RowBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private int _created;

    /// <summary>Records parsed so far; after a failure, the failing record is the next one.</summary>
    public long RowsRead { get; private set; }

    /// <summary>The exception that stopped parsing (bad UTF-8, malformed CSV) or filtering, if any.</summary>
    public Exception? Failure { get; private set; }

    public ChannelReader<RowBatch> Batches => _full.Reader;

    public void Return(RowBatch batch)
    {
        batch.Clear();
        _free.Writer.TryWrite(batch);
    }

    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Task.Run(() => ParseAsync(cancellationToken), CancellationToken.None), Task.Run(() => FilterAsync(cancellationToken), CancellationToken.None));

    private async Task ParseAsync(CancellationToken cancellationToken)
    {
        try
        {
            var batch = await NextFreeAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                batch.Add(reader);
                RowsRead++;
                if (batch.Count == batch.Capacity)
                {
                    await _parsed.Writer.WriteAsync(batch, cancellationToken);
                    batch = await NextFreeAsync(cancellationToken);
                }
            }

            if (batch.Count > 0)
            {
                await _parsed.Writer.WriteAsync(batch, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The consumer stopped early (e.g. an identifier column); nothing more to read. Any other cancellation (an
            // input stream's timeout surfaces as TaskCanceledException) is a failure, never an early end of file.
        }
        catch (Exception e)
        {
            Failure ??= e;
        }
        finally
        {
            _parsed.Writer.TryComplete();
        }
    }

    private async Task FilterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in _parsed.Reader.ReadAllAsync(cancellationToken))
            {
                filter(batch);
                await _full.Writer.WriteAsync(batch, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // As above.
        }
        catch (Exception e)
        {
            Failure ??= e;
        }
        finally
        {
            _full.Writer.TryComplete();
        }
    }

    private async ValueTask<RowBatch> NextFreeAsync(CancellationToken cancellationToken)
    {
        if (_free.Reader.TryRead(out var batch))
        {
            return batch;
        }

        if (_created < (2 * InFlight) + 3 + heldBatches)
        {
            _created++;
            return newBatch();
        }

        return await _free.Reader.ReadAsync(cancellationToken);
    }
}
