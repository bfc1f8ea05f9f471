using System.Buffers;
using Sylvan.Data.Csv;

namespace Linkage.Keys;

/// <summary>
/// Streams a CSV (with header) from reader to writer, rewriting token columns in batches: the hot-path pattern for
/// File 2 intake, project provisioning and re-keying. With no rules it is a plain parse-and-write copy (the benchmark
/// baseline). An optional <see cref="TokenRowFilter"/> leaves out whole rows by one rule column's input token.
/// </summary>
/// <remarks>
/// Each output row is written straight into a batch character buffer, leaving a 22-character gap for every token
/// (tokens have a fixed width and need no quoting); the values' blocks go into one N×16-byte buffer per rule (a token
/// is decoded as it is parsed, while its characters are in L1; a plain value is parked in its gap and padded by the
/// flush), are transformed with one or two native AES calls per batch, then base64url-encoded into the gaps, and the
/// whole batch is written with one call, on the thread pool while the caller parses the next batch (double buffering:
/// two batches in memory). Memory is O(batch), independent of the file's length. Rows whose field count differs from
/// the header, malformed tokens and over-long values stop the rewrite with a <see cref="CsvTokenException"/>: nothing is
/// silently dropped. A malformed token stops it at its row, a bad plain value when its batch is flushed, so on an error
/// the output holds earlier batches and must be discarded (write to a staging blob, commit on success). The row filter
/// runs in the flush: the filter column's blocks are judged in one call, the batch's rules applied, and the rows left
/// out are cut from the batch text (runs of kept rows moved down) before the one write.
/// An optional <see cref="CsvRowSuppressor"/> blanks fields of the rows it picks as they are copied, and is told at the
/// flush which of them were written; without one the parsing loop pays one untaken branch a row and a field.
/// </remarks>
public sealed partial class CsvTokenRewriter(IReadOnlyList<TokenColumnRule> rules, CsvTokenRewriterOptions? options = null, TokenRowFilter? rowFilter = null, CsvRowSuppressor? suppressor = null)
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
                    else if (slot.DecodesOnParse)
                    {
                        // A token is decoded here, while its characters are hot: the flush then only transforms and encodes it into its gap.
                        if (!slot.TryAddToken(text.ReserveToken(), value))
                        {
                            throw new CsvTokenException(rows, slot.Rule.Column, slot.Problem);
                        }
                    }
                    else
                    {
                        // A plain value is parked raw in its token gap; padded, encrypted and encoded by the flush, off this thread.
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
}
