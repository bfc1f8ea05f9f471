using Sylvan.Data.Csv;

namespace Linkage.Keys;

// The rewriter's batch buffers: one batch of output text, and each rule's values in it.
public sealed partial class CsvTokenRewriter
{
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

    /// <summary>One rule's values in the current batch: where each sits in the text, and their blocks.</summary>
    private sealed class RuleSlot(TokenColumnRule rule, int capacity, bool filters)
    {
        private readonly byte[] _blocks = new byte[capacity * 16];
        private readonly int[] _gaps = new int[capacity];
        // For plain values only (tokens are checked as parsed): each one's length and data row, for the flush.
        private readonly int[] _lengths = rule.Operation == TokenOperation.EncryptText ? new int[capacity] : [];
        private readonly long[] _rows = rule.Operation == TokenOperation.EncryptText ? new long[capacity] : [];
        private int _count;

        public TokenColumnRule Rule { get; } = rule;

        /// <summary>The row filter reads this column's tokens (so it may not be empty).</summary>
        public bool Filters { get; } = filters;

        /// <summary>The input blocks, valid between <see cref="Gather"/> and <see cref="Apply"/>.</summary>
        public ReadOnlySpan<byte> Blocks => _blocks.AsSpan(0, _count * 16);

        public string Problem => Rule.Operation == TokenOperation.EncryptText
            ? $"not a value of 1 to {BlockPadding.MaxValueBytes} UTF-8 bytes"
            : "not a 22-character token";

        /// <summary>The column holds tokens (every operation but <see cref="TokenOperation.EncryptText"/>): decoded as parsed.</summary>
        public bool DecodesOnParse { get; } = rule.Operation != TokenOperation.EncryptText;

        /// <summary>Decodes a token into the next block and parks its gap; false when it is not a token.</summary>
        public bool TryAddToken(int gap, ReadOnlySpan<char> token)
        {
            if (!TokenCodec.TryDecode(token, _blocks.AsSpan(_count * 16, 16)))
            {
                return false;
            }

            _gaps[_count++] = gap;
            return true;
        }

        /// <summary>Parks a plain value's gap, for <see cref="Gather"/> to pad in the flush.</summary>
        public void Add(int gap, int length, long row)
        {
            _gaps[_count] = gap;
            _lengths[_count] = length;
            _rows[_count] = row;
            _count++;
        }

        /// <summary>Pads the parked plain values into blocks (tokens were decoded as parsed); a bad value stops the rewrite.</summary>
        public void Gather(char[] buffer)
        {
            if (DecodesOnParse)
            {
                return;
            }

            var blocks = _blocks.AsSpan(0, _count * 16);
            for (var k = 0; k < _count; k++)
            {
                if (!BlockPadding.TryPadFromBuffer(buffer.AsSpan(_gaps[k], TokenCodec.TokenChars), _lengths[k], blocks.Slice(k * 16, 16)))
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
