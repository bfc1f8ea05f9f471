using System.Buffers;
using Sylvan.Data.Csv;

namespace Linkage.Keys;

/// <summary>Tuning for <see cref="CsvTokenRewriter"/>.</summary>
public sealed class CsvTokenRewriterOptions
{
    /// <summary>
    /// Rows per batch: one native AES call per rule per batch. Memory is bounded by this, not by file size. 4,096 rows
    /// (≈ 0.6 MB of text) keep a batch within a core's L2 through the flush's passes over it; 8,192 spilled to L3.
    /// </summary>
    public int BatchRows { get; init; } = 4096;

    public int ReaderBufferChars { get; init; } = 1 << 16;
}

/// <summary>
/// What a rewrite did: rows read, empty values passed through (over all rows read), and the key version of each
/// rewritten column. With a <see cref="TokenRowFilter"/>, <see cref="RowsLeftOut"/> of the rows read were not written.
/// </summary>
public sealed record CsvRewriteSummary(long Rows, long EmptyValues, IReadOnlyDictionary<string, string> KeyVersions)
{
    /// <summary>Rows the row filter left out (0 without a filter).</summary>
    public long RowsLeftOut { get; init; }

    /// <summary>Rows written (after the header).</summary>
    public long RowsWritten => Rows - RowsLeftOut;
}

/// <summary>
/// Keeps or leaves out whole rows of a <see cref="CsvTokenRewriter"/> by the token in one of its rule's columns, as it
/// was read (before the rule transforms it): e.g. provisioning keeps only rows whose TRE id is in a project's cohort.
/// </summary>
/// <remarks>
/// <see cref="Select"/> is called once a batch, on the flush thread, one batch at a time and in input order, so an
/// implementation may keep per-run state without locking. Every row must hold a token in the column: an empty value
/// stops the rewrite (a row without a person key cannot be judged).
/// </remarks>
public abstract class TokenRowFilter(string column)
{
    /// <summary>The input column whose tokens decide (it must also be a rule's column).</summary>
    public string Column { get; } = column;

    /// <summary>For each row of a batch, its token's 16 raw bytes (<paramref name="blocks"/>, n×16) → keep it or not.</summary>
    public abstract void Select(ReadOnlySpan<byte> blocks, Span<bool> keep);
}

/// <summary>
/// Writes chosen fields of a <see cref="CsvTokenRewriter"/>'s rows empty (e.g. provisioning's cell suppression), judged on
/// each row's values as read, and learns which of those rows were written (after any <see cref="TokenRowFilter"/>).
/// </summary>
/// <remarks>
/// <see cref="Judge"/> runs on the parsing thread, once a row, in input order; <see cref="Written"/> on the flush thread,
/// once a batch, in input order (never two at once). A rule's column can never be blanked: <see cref="Bind"/> names the
/// columns it may blank, and the rewrite refuses one a rule rewrites. An instance serves one rewrite at a time.
/// </remarks>
public abstract class CsvRowSuppressor
{
    /// <summary>How many tags <see cref="Judge"/> writes a row (handed back to <see cref="Written"/>).</summary>
    public abstract int TagsPerRow { get; }

    /// <summary>Called once with the input header (before any row): the ordinals it may blank. Throws to refuse the file.</summary>
    public abstract IReadOnlyList<int> Bind(IReadOnlyList<string> header);

    /// <summary>
    /// One data row: set <paramref name="blank"/>[ordinal] (all false on entry) for each field to write empty, fill the
    /// row's <paramref name="tags"/>; true when anything is blanked.
    /// </summary>
    public abstract bool Judge(CsvDataReader row, Span<bool> blank, Span<int> tags);

    /// <summary>One flushed batch: its rows' tags (<see cref="TagsPerRow"/> each, in row order) and whether each row was written.</summary>
    public abstract void Written(ReadOnlySpan<int> tags, ReadOnlySpan<bool> written);
}

/// <summary>A value in a rewritten column could not be processed. Names the data row and column, never the value.</summary>
public sealed class CsvTokenException(long dataRow, string column, string problem)
    : FormatException($"Data row {dataRow}, column '{column}': {problem}")
{
    public long DataRow { get; } = dataRow;

    public string Column { get; } = column;
}

/// <summary>
/// Streams a CSV (with header) from reader to writer, rewriting token columns in batches: the hot-path pattern for
/// File 2 intake, project provisioning and re-keying. With no rules it is a plain parse-and-write copy (the benchmark
/// baseline). An optional <see cref="TokenRowFilter"/> leaves out whole rows by one rule column's input token.
/// </summary>
/// <remarks>
/// Each output row is written straight into a batch character buffer, leaving a 22-character gap for every token
/// (tokens have a fixed width and need no quoting); the values' blocks are gathered into one N×16-byte buffer per rule,
/// transformed with one or two native AES calls per batch, then base64url-encoded into the gaps, and the whole batch is
/// written with one call, on the thread pool while the caller parses the next batch (double buffering: two
/// batches in memory). Memory is O(batch), independent of the file's length. Rows whose field count differs from
/// the header, malformed tokens and over-long values stop the rewrite with a <see cref="CsvTokenException"/>: nothing is
/// silently dropped. Values are checked when their batch is flushed, so on an error the output holds earlier batches
/// and must be discarded (write to a staging blob, commit on success). The row filter also runs in the flush: the
/// filter column's tokens are decoded, judged in one call, the batch's rules applied, and the rows left out are cut
/// from the batch text (runs of kept rows moved down) before the one write — the parsing thread pays nothing for it.
/// An optional <see cref="CsvRowSuppressor"/> blanks fields of the rows it picks as they are copied, and is told at the
/// flush which of them were written; without one the parsing loop pays one untaken branch a row and a field.
/// </remarks>
public sealed class CsvTokenRewriter(IReadOnlyList<TokenColumnRule> rules, CsvTokenRewriterOptions? options = null, TokenRowFilter? rowFilter = null, CsvRowSuppressor? suppressor = null)
{
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n");
    private readonly CsvTokenRewriterOptions _options = options ?? new CsvTokenRewriterOptions();

    public async Task<CsvRewriteSummary> RewriteAsync(TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        var readerOptions = CsvReaderOptions.Strict(_options.ReaderBufferChars);
        await using var reader = await CsvDataReader.CreateAsync(input, readerOptions, cancellationToken);
        var fieldCount = reader.FieldCount;
        var ordinals = new Dictionary<int, TokenColumnRule>();
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        var batchRows = Math.Max(1, _options.BatchRows);
        foreach (var rule in rules)
        {
            if (!ordinals.TryAdd(FindColumn(reader, rule.Column), rule))
            {
                throw new ArgumentException($"Two rules rewrite column '{rule.Column}'.", nameof(rules));
            }

            versions[rule.OutputColumn ?? rule.Column] = rule.KeyVersion;
        }

        var filterOrdinal = -1;
        if (rowFilter is not null)
        {
            filterOrdinal = FindColumn(reader, rowFilter.Column);
            if (!ordinals.ContainsKey(filterOrdinal))
            {
                throw new ArgumentException($"The row filter's column '{rowFilter.Column}' is not rewritten by any rule.", nameof(rowFilter));
            }
        }

        var blank = Array.Empty<bool>();
        if (suppressor is not null)
        {
            foreach (var ordinal in suppressor.Bind(Enumerable.Range(0, fieldCount).Select(reader.GetName).ToList()))
            {
                if (ordinal < 0 || ordinal >= fieldCount || ordinals.ContainsKey(ordinal))
                {
                    throw new ArgumentException($"The row suppressor may not blank field {ordinal}: it is a rule's column or not in the file.", nameof(suppressor));
                }
            }

            blank = new bool[fieldCount];
        }

        // Two batches: while one is encrypted and written on the thread pool, the caller parses into the other.
        var batches = new[] { new Batch(fieldCount, ordinals, batchRows, rowFilter, filterOrdinal, suppressor), new Batch(fieldCount, ordinals, batchRows, rowFilter, filterOrdinal, suppressor) };
        var batch = batches[0];
        var text = batch.Text;
        for (var i = 0; i < fieldCount; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            text.AppendField(ordinals.TryGetValue(i, out var renamed) ? renamed.OutputColumn ?? renamed.Column : reader.GetName(i));
        }

        text.Append('\n');

        long rows = 0;
        long empty = 0;
        var inBatch = 0;
        var pending = Task.CompletedTask;
        try
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows++;
                if (reader.RowFieldCount != fieldCount)
                {
                    throw new CsvTokenException(rows, "(whole row)", $"the row has {reader.RowFieldCount} fields, the header {fieldCount}");
                }

                var slots = batch.Slots;
                batch.StartRow();
                var blankRow = suppressor is not null && batch.Judge(reader, blank);
                for (var i = 0; i < fieldCount; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    var value = reader.GetFieldSpan(i);
                    var slot = slots[i];
                    if (slot is null)
                    {
                        text.AppendField(blankRow && blank[i] ? default : value);
                    }
                    else if (value.IsEmpty)
                    {
                        if (slot.Filters)
                        {
                            throw new CsvTokenException(rows, slot.Rule.Column, "empty, but the row filter needs a token in every row");
                        }

                        empty++;
                    }
                    else if (value.Length > TokenCodec.TokenChars)
                    {
                        throw new CsvTokenException(rows, slot.Rule.Column, slot.Problem);
                    }
                    else
                    {
                        // Parked raw in its token gap; checked, encrypted and encoded by the flush, off this thread.
                        var gap = text.ReserveToken();
                        value.CopyTo(text.Buffer.AsSpan(gap));
                        slot.Add(gap, value.Length, rows);
                    }
                }

                text.Append('\n');
                if (blankRow)
                {
                    Array.Clear(blank);
                }

                if (++inBatch == batchRows)
                {
                    await pending;
                    var full = batch;
                    pending = Task.Run(() => full.FlushAsync(output, cancellationToken), cancellationToken);
                    batch = batch == batches[0] ? batches[1] : batches[0];
                    text = batch.Text;
                    inBatch = 0;
                }
            }
        }
        finally
        {
            // Never leave a background flush running past the return (or the exception) of this method.
            await pending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await pending;
        await batch.FlushAsync(output, cancellationToken);
        await output.FlushAsync(cancellationToken);
        return new CsvRewriteSummary(rows, empty, versions) { RowsLeftOut = batches[0].RowsLeftOut + batches[1].RowsLeftOut };
    }

    /// <summary>One batch of output text and the gathered blocks of each rule's column.</summary>
    private sealed class Batch
    {
        private readonly TokenRowFilter? _filter;
        private readonly RuleSlot? _filterSlot;
        private readonly CsvRowSuppressor? _suppressor;

        // With a suppressor: each row's tags, and (without a filter) the all-written verdicts it is told.
        private readonly int[] _tags = [];
        private readonly bool[] _allWritten = [];
        private int _judged;

        // With a row filter: where each row's text starts (and, at the flush, where the last one ends), and the verdicts.
        private readonly int[] _rowStart = [];
        private readonly bool[] _keep = [];
        private int _rowCount;

        public Batch(int fieldCount, Dictionary<int, TokenColumnRule> rules, int batchRows, TokenRowFilter? filter, int filterOrdinal, CsvRowSuppressor? suppressor)
        {
            if (suppressor is not null)
            {
                _suppressor = suppressor;
                _tags = new int[batchRows * suppressor.TagsPerRow];
                _allWritten = filter is null ? Enumerable.Repeat(true, batchRows).ToArray() : [];
            }

            Text = new CharBatch(batchRows * 64);
            Slots = new RuleSlot?[fieldCount];
            foreach (var (ordinal, rule) in rules)
            {
                Slots[ordinal] = new RuleSlot(rule, batchRows, filters: ordinal == filterOrdinal);
            }

            if (filter is not null)
            {
                _filter = filter;
                _filterSlot = Slots[filterOrdinal];
                _rowStart = new int[batchRows + 1];
                _keep = new bool[batchRows];
            }
        }

        public CharBatch Text { get; }

        public RuleSlot?[] Slots { get; }

        /// <summary>Rows of this batch object's flushes that the filter left out (read once the rewrite is over).</summary>
        public long RowsLeftOut { get; private set; }

        /// <summary>The suppressor's verdict on the row being parsed (its tags kept for the flush).</summary>
        public bool Judge(CsvDataReader reader, Span<bool> blank)
        {
            var n = _suppressor!.TagsPerRow;
            return _suppressor.Judge(reader, blank, _tags.AsSpan(_judged++ * n, n));
        }

        /// <summary>Marks where a data row starts (only needed to cut rows out).</summary>
        public void StartRow()
        {
            if (_filter is not null)
            {
                _rowStart[_rowCount++] = Text.Length;
            }
        }

        public async Task FlushAsync(TextWriter output, CancellationToken cancellationToken)
        {
            foreach (var slot in Slots)
            {
                slot?.Gather(Text.Buffer);
            }

            if (_filter is not null)
            {
                // One token a row in the filter column (empty values were refused), so entry k is row k.
                var keep = _keep.AsSpan(0, _rowCount);
                _filter.Select(_filterSlot!.Blocks, keep);
            }

            foreach (var slot in Slots)
            {
                slot?.Apply(Text.Buffer);
            }

            if (_suppressor is not null)
            {
                _suppressor.Written(_tags.AsSpan(0, _judged * _suppressor.TagsPerRow), _filter is null ? _allWritten.AsSpan(0, _judged) : _keep.AsSpan(0, _judged));
                _judged = 0;
            }

            if (_filter is not null)
            {
                CutRowsLeftOut();
            }

            await output.WriteAsync(Text.Buffer.AsMemory(0, Text.Length), cancellationToken);
            Text.Length = 0;
        }

        /// <summary>Moves each run of kept rows down over the rows left out; the header (before row 0) stays.</summary>
        private void CutRowsLeftOut()
        {
            var buffer = Text.Buffer;
            _rowStart[_rowCount] = Text.Length;
            var to = _rowCount > 0 ? _rowStart[0] : Text.Length;
            var r = 0;
            while (r < _rowCount)
            {
                if (!_keep[r])
                {
                    RowsLeftOut++;
                    r++;
                    continue;
                }

                var first = r;
                while (r < _rowCount && _keep[r])
                {
                    r++;
                }

                var from = _rowStart[first];
                var length = _rowStart[r] - from;
                if (from != to)
                {
                    Array.Copy(buffer, from, buffer, to, length);
                }

                to += length;
            }

            Text.Length = to;
            _rowCount = 0;
        }
    }

    private static int FindColumn(CsvDataReader reader, string column)
    {
        for (var i = 0; i < reader.FieldCount; i++)
        {
            if (string.Equals(reader.GetName(i), column, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new InvalidDataException($"The CSV has no column '{column}'.");
    }

    /// <summary>One rule's values in the current batch: where each sits in the text, and their blocks.</summary>
    private sealed class RuleSlot(TokenColumnRule rule, int capacity, bool filters)
    {
        private readonly byte[] _blocks = new byte[capacity * 16];
        private readonly int[] _gaps = new int[capacity];
        private readonly int[] _lengths = new int[capacity];
        private readonly long[] _rows = new long[capacity];
        private int _count;

        public TokenColumnRule Rule { get; } = rule;

        /// <summary>The row filter reads this column's tokens (so it may not be empty).</summary>
        public bool Filters { get; } = filters;

        /// <summary>The gathered input blocks, valid between <see cref="Gather"/> and <see cref="Apply"/>.</summary>
        public ReadOnlySpan<byte> Blocks => _blocks.AsSpan(0, _count * 16);

        public string Problem => Rule.Operation == TokenOperation.EncryptText
            ? $"not a value of 1 to {BlockPadding.MaxValueBytes} UTF-8 bytes"
            : "not a 22-character token";

        public void Add(int gap, int length, long row)
        {
            _gaps[_count] = gap;
            _lengths[_count] = length;
            _rows[_count] = row;
            _count++;
        }

        /// <summary>Reads the parked values into blocks (padding or decoding them); a bad value stops the rewrite.</summary>
        public void Gather(char[] buffer)
        {
            var blocks = _blocks.AsSpan(0, _count * 16);
            var text = Rule.Operation == TokenOperation.EncryptText;
            for (var k = 0; k < _count; k++)
            {
                var gap = buffer.AsSpan(_gaps[k], TokenCodec.TokenChars);
                var block = blocks.Slice(k * 16, 16);
                if (!(text ? BlockPadding.TryPadFromBuffer(gap, _lengths[k], block) : TokenCodec.TryDecode(gap[.._lengths[k]], block)))
                {
                    _count = 0;
                    throw new CsvTokenException(_rows[k], Rule.Column, Problem);
                }
            }
        }

        /// <summary>Transforms the gathered blocks in one or two native calls and writes the tokens back into their gaps.</summary>
        public void Apply(char[] buffer)
        {
            var blocks = _blocks.AsSpan(0, _count * 16);
            switch (Rule.Operation)
            {
                case TokenOperation.EncryptText:
                case TokenOperation.AddLayer:
                    Rule.Cipher.EncryptBlocks(blocks, blocks);
                    break;
                case TokenOperation.RemoveLayer:
                    Rule.Cipher.DecryptBlocks(blocks, blocks);
                    break;
                case TokenOperation.Transcode:
                    Rule.Cipher.DecryptBlocks(blocks, blocks);
                    Rule.Then!.EncryptBlocks(blocks, blocks);
                    break;
            }

            for (var k = 0; k < _count; k++)
            {
                TokenCodec.Encode(blocks.Slice(k * 16, 16), buffer.AsSpan(_gaps[k], TokenCodec.TokenChars));
            }

            _count = 0;
        }
    }

    /// <summary>A growable buffer holding one batch of output text.</summary>
    private sealed class CharBatch(int initialCapacity)
    {
        public char[] Buffer { get; private set; } = new char[initialCapacity];

        public int Length { get; set; }

        public void Append(char c)
        {
            Ensure(1);
            Buffer[Length++] = c;
        }

        public void AppendField(ReadOnlySpan<char> value)
        {
            if (value.IndexOfAny(NeedsQuotes) < 0)
            {
                Ensure(value.Length);
                value.CopyTo(Buffer.AsSpan(Length));
                Length += value.Length;
                return;
            }

            Ensure(value.Length * 2 + 2);
            Buffer[Length++] = '"';
            foreach (var c in value)
            {
                if (c == '"')
                {
                    Buffer[Length++] = '"';
                }

                Buffer[Length++] = c;
            }

            Buffer[Length++] = '"';
        }

        /// <summary>Reserves the 22 characters of a token and returns where they start.</summary>
        public int ReserveToken()
        {
            Ensure(TokenCodec.TokenChars);
            var at = Length;
            Length += TokenCodec.TokenChars;
            return at;
        }

        private void Ensure(int extra)
        {
            if (Length + extra > Buffer.Length)
            {
                var bigger = new char[Math.Max(Buffer.Length * 2, Length + extra)];
                Buffer.AsSpan(0, Length).CopyTo(bigger);
                Buffer = bigger;
            }
        }
    }
}
