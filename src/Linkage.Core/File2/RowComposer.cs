using System.Text;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>
/// Worker side, per filtered batch: lays each kept row out as its staged record (output CSV bytes, token slots, the
/// digest of what the output hides, room for risk ids), encrypts the batch's ids and geographies in one cipher call per
/// column, and hashes each row for deduplication.
/// </summary>
internal sealed class RowComposer(ColumnPlan plan, BlockTokenCipher idCipher, BlockTokenCipher geoCipher)
{
    private const int DigestBytes = 16;

    private readonly BlockTokenCipher _idCipher = idCipher;
    private readonly BlockTokenCipher _geoCipher = geoCipher;
    private readonly ColumnSpec[] _columns = plan.Columns;
    private readonly int[] _ordinal = plan.Ordinal;
    private readonly int[] _outputColumns = plan.OutputColumns;
    private readonly int[] _geoColumns = plan.GeoColumns;
    private readonly int[] _geoIndex = plan.GeoIndex;
    private readonly int[] _generalisedIndex = plan.GeneralisedIndex;
    private readonly int[] _codeColumns = plan.CodeColumns;
    private readonly int[] _codeIndex = plan.CodeIndex;
    private readonly CodeList?[] _codeLists = plan.CodeLists;
    private readonly OutputKind[] _outputKind = plan.OutputKinds;
    private readonly bool _hasHidden = plan.HasHidden;
    private readonly bool _alwaysHidden = plan.AlwaysHidden;
    private readonly int _groupings = plan.Groupings;
    private readonly bool _hasPersonKey = plan.HasPersonKey;

    /// <summary>Composes the kept rows of a filtered batch, encrypts their tokens and geographies, hashes them for dedup.</summary>
    public void ComposeBatch(Lane lane, RowBatch batch, OutputBatch output)
    {
        for (int r = 0; r < batch.Count; r++)
        {
            if (batch.Kept[r])
            {
                lane.Row = r;
                output.SourceRow[output.Count] = r;
                StageInBatch(lane, output, batch.Keys[r], batch.BlankGeography[r]);
            }
        }

        EncryptBatch(output);
        for (int r = 0; r < output.Count; r++)
        {
            int start = output.LineStart[r];
            output.Hash[r] = RowHasher.Hash64(output.Bytes.AsSpan(start, output.CompareEnd[r] - start));
        }
    }

    /// <summary>Writes the lane's row's output bytes (token slots left for the batch cipher) and hidden digest.</summary>
    private void StageInBatch(Lane lane, OutputBatch b, TokenBytes key, bool blankGeography)
    {
        var rows = lane.Rows;
        int row = lane.Row;
        int r = b.Count;
        b.EnsureBytes(RowByteBound(rows, row));
        int recordStart = b.Used;
        b.RecordStart[r] = recordStart;
        int at = recordStart + DedupStore.RecordHeaderBytes;
        b.LineStart[r] = at;
        bool first = true;
        foreach (int c in _outputColumns)
        {
            if (!first)
            {
                b.Bytes[at++] = (byte)',';
            }

            first = false;
            var column = _columns[c];
            ReadOnlySpan<char> value = rows.Field(row, _ordinal[c]);
            switch (column.Rule)
            {
                case ColumnRule.EncryptId:
                    b.IdSlot[r] = at;
                    key.WriteBytes(b.IdBlocks.AsSpan(r * 16, 16));
                    at += BlockTokenCipher.TokenChars;
                    break;
                case ColumnRule.EncryptGeography:
                    int g = _geoIndex[c];
                    if (blankGeography || value.IsEmpty)
                    {
                        b.GeoSlot[g][r] = -1;
                    }
                    else
                    {
                        b.GeoSlot[g][r] = at;
                        if (!BlockPadding.TryPad(value, b.GeoBlocks[g].AsSpan(b.GeoCount[g] * 16, 16)))
                        {
                            throw new InvalidOperationException("A checked geography value did not fit one block.");
                        }

                        b.GeoRow[g][b.GeoCount[g]++] = r;
                        at += BlockTokenCipher.TokenChars;
                    }

                    break;
                case ColumnRule.Generalise:
                    // A band label such as "-10--1" would be run as a formula: labels are text cells.
                    at += CsvField.WriteText(rows.Generalised(row, _generalisedIndex[c]), b.Bytes.AsSpan(at));
                    break;
                default:
                    switch (_outputKind[c])
                    {
                        case OutputKind.Code:
                            int code = rows.Codes[(row * _codeColumns.Length) + _codeIndex[c]];
                            if (code >= 0)
                            {
                                ReadOnlySpan<byte> bytes = _codeLists[c]!.CsvBytes(code);
                                bytes.CopyTo(b.Bytes.AsSpan(at));
                                at += bytes.Length;
                            }
                            else if (code == ValueCheck.UnexpectedCode)
                            {
                                // onUnexpected: warn — a value outside the list is free text from the provider.
                                at += CsvField.WriteText(value, b.Bytes.AsSpan(at));
                            }

                            break;
                        case OutputKind.Ascii when Ascii.FromUtf16(value, b.Bytes.AsSpan(at), out int narrowed) == System.Buffers.OperationStatus.Done:
                            at += narrowed;
                            break;
                        case OutputKind.Text:
                            at += CsvField.WriteText(value, b.Bytes.AsSpan(at));
                            break;
                        default:
                            at += CsvField.Write(value, b.Bytes.AsSpan(at));
                            break;
                    }

                    break;
            }
        }

        b.LineEnd[r] = at;
        b.Blanked[r] = blankGeography;
        if (_alwaysHidden || (blankGeography && _hasHidden))
        {
            // Only rows that hide something carry the digest: a row hiding nothing is identified by its output alone,
            // and the differing lengths keep the two kinds from ever comparing equal.
            ReadOnlySpan<byte> hidden = HiddenBytes(lane, blankGeography);
            if (!hidden.IsEmpty)
            {
                RowHasher.Digest128(hidden, b.Bytes.AsSpan(at, DigestBytes));
                at += DigestBytes;
            }
        }

        b.CompareEnd[r] = at;
        DedupStore.WriteRecordHeader(b.Bytes.AsSpan(recordStart), at - b.LineStart[r], b.LineEnd[r] - b.LineStart[r]);
        at += _groupings * 4; // the risk ids, written in input order by the consumer
        b.Used = at;
        b.Count++;
    }

    /// <summary>At most 6 bytes a char (a quoted, doubled quote of 3 bytes), a token or generalised value per column.</summary>
    private int RowByteBound(RowBatch rows, int row) =>
        DedupStore.RecordHeaderBytes + (_groupings * 4) + DigestBytes + (_outputColumns.Length * (BlockTokenCipher.TokenChars + 64)) + (rows.RowChars(row) * 6);

    /// <summary>Raw values of columns whose output does not show them (excluded, generalised, blanked geography).</summary>
    private ReadOnlySpan<byte> HiddenBytes(Lane lane, bool blankGeography)
    {
        int used = 0;
        for (int c = 0; c < _columns.Length; c++)
        {
            var rule = _columns[c].Rule;
            if (rule is ColumnRule.Exclude or ColumnRule.Generalise || (rule == ColumnRule.EncryptGeography && blankGeography))
            {
                // Each value behind its length, so no split of the same characters between two columns reads alike.
                ReadOnlySpan<char> value = lane.Field(_ordinal[c]);
                int need = used + Encoding.UTF8.GetMaxByteCount(value.Length) + 4;
                if (need > lane.HiddenScratch.Length)
                {
                    Array.Resize(ref lane.HiddenScratch, need * 2);
                }

                int length = Encoding.UTF8.GetBytes(value, lane.HiddenScratch.AsSpan(used + 4));
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(lane.HiddenScratch.AsSpan(used), length);
                used += 4 + length;
            }
        }

        return lane.HiddenScratch.AsSpan(0, used);
    }

    /// <summary>Encrypts the batch's keys and geographies (one cipher call per column) and fills their slots.</summary>
    private void EncryptBatch(OutputBatch b)
    {
        if (b.Count == 0)
        {
            return;
        }

        // The ciphers are shared by the workers and not thread-safe; one call per batch and column, so the lock is rarely contended.
        // TTP tokens and padded SDE patient keys alike are one block each, encrypted with the TRE id cipher.
        if (_hasPersonKey)
        {
            Span<byte> ids = b.IdBlocks.AsSpan(0, b.Count * 16);
            lock (_idCipher)
            {
                _idCipher.EncryptBlocks(ids, ids);
            }

            for (int r = 0; r < b.Count; r++)
            {
                TokenCodec.EncodeUtf8(ids.Slice(r * 16, 16), b.Bytes.AsSpan(b.IdSlot[r], BlockTokenCipher.TokenChars));
            }
        }

        for (int g = 0; g < _geoColumns.Length; g++)
        {
            int n = b.GeoCount[g];
            if (n == 0)
            {
                continue;
            }

            Span<byte> geo = b.GeoBlocks[g].AsSpan(0, n * 16);
            lock (_geoCipher)
            {
                _geoCipher.EncryptBlocks(geo, geo);
            }

            for (int k = 0; k < n; k++)
            {
                TokenCodec.EncodeUtf8(geo.Slice(k * 16, 16), b.Bytes.AsSpan(b.GeoSlot[g][b.GeoRow[g][k]], BlockTokenCipher.TokenChars));
            }
        }
    }
}
