using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>
/// Worker side, per batch: checks every row against the column plan, looks its key's permissions up, and decides
/// whether it is kept, rejected (with why) or dropped (with the reason counted). A kept row's generalised values,
/// codes and risk-key hashes are left in the batch for composing and staging.
/// </summary>
internal sealed class RowFilter(ColumnPlan plan, DatasetSpec spec, PermissionSnapshotSet permissions, ValueCheck check, RiskKeys riskKeys)
{
    private readonly DatasetSpec _spec = spec;
    private readonly PermissionSnapshotSet _permissions = permissions;
    private readonly ColumnSpec[] _columns = plan.Columns;
    private readonly int[] _ordinal = plan.Ordinal;
    private readonly int _inputFieldCount = plan.InputFieldCount;
    private readonly int _keyColumn = plan.KeyColumn;
    private readonly int[] _geoColumns = plan.GeoColumns;
    private readonly int[] _generalisedColumns = plan.GeneralisedColumns;
    private readonly int[] _codeColumns = plan.CodeColumns;
    private readonly bool[] _countShape = plan.CountShape;
    private readonly int _groupings = plan.Groupings;
    private readonly KeyScheme _keyScheme = plan.KeyScheme;
    private readonly bool _checkPermissions = plan.CheckPermissions;
    private readonly bool _anyWarn = plan.AnyWarn;
    private readonly bool[] _warnColumns = plan.WarnColumns;
    private readonly int _temporalColumn = plan.TemporalColumn;
    private readonly string _keyReject = plan.KeyScheme == KeyScheme.SdePatientKey
        ? "is not a valid patient key (1–15 letters, digits, - or _)"
        : "is not a 22-character TTP token";

    /// <summary>Checks and filters every row of a batch, recording the verdicts in it.</summary>
    public void FilterBatch(Lane lane, RowBatch batch)
    {
        // The key scheme and the checks are decided once per batch, so the UK LLC loop is as it was.
        switch (_keyScheme)
        {
            case KeyScheme.UkllcTtpToken:
                int keyOrdinal = _ordinal[_keyColumn];
                for (int r = 0; r < batch.Count; r++)
                {
                    // Only rows with the header's field count get as far as their key (FilterRow rejects the others first).
                    batch.KeyParsed[r] = batch.FieldCount(r) == _inputFieldCount && TokenBytes.TryParse(batch.Field(r, keyOrdinal), out batch.Keys[r]);
                    if (!batch.KeyParsed[r])
                    {
                        batch.Keys[r] = default;
                    }
                }

                break;
            case KeyScheme.SdePatientKey:
                int sdeOrdinal = _ordinal[_keyColumn];
                for (int r = 0; r < batch.Count; r++)
                {
                    batch.KeyParsed[r] = batch.FieldCount(r) == _inputFieldCount && SdePatientKey.TryPad(batch.Field(r, sdeOrdinal), out batch.Keys[r]);
                    if (!batch.KeyParsed[r])
                    {
                        batch.Keys[r] = default;
                    }
                }

                break;
            default:
                // Reference data: no person key.
                Array.Fill(batch.KeyParsed, true, 0, batch.Count);
                Array.Clear(batch.Keys, 0, batch.Count);
                break;
        }

        if (_checkPermissions)
        {
            _permissions.GetFlags(batch.Keys.AsSpan(0, batch.Count), batch.Flags, batch.Participant);
        }
        else
        {
            Array.Clear(batch.Flags, 0, batch.Count);
        }

        for (int r = 0; r < batch.Count; r++)
        {
            lane.Row = r;
            var parsed = batch.Keys[r];
            batch.Kept[r] = FilterRow(lane, batch.KeyParsed[r], parsed, batch.Flags[r], out batch.Keys[r], out batch.BlankGeography[r]);
        }
    }

    /// <summary>Checks and filters the current row of the lane's batch; counts why it is left out, or computes what composing it needs.</summary>
    private bool FilterRow(Lane lane, bool keyParsed, TokenBytes parsedKey, int flags, out TokenBytes key, out bool blankGeography)
    {
        key = default;
        blankGeography = false;
        var counts = lane.Counts;
        var rows = lane.Rows;
        int row = lane.Row;
        long line = rows.FirstRecord + row + 2;
        int fieldCount = rows.FieldCount(row);
        if (fieldCount == 1 && _inputFieldCount > 1 && lane.Field(0).IsEmpty)
        {
            // A blank line (an export's trailing newline, say) holds no data: it is not a row, so it is neither kept
            // nor rejected, and a small file is not refused for it. It is counted in the run statistics.
            counts.BlankLines++;
            return false;
        }

        counts.RowsIn++;
        if (fieldCount != _inputFieldCount)
        {
            RejectFieldCount(counts, line, fieldCount);
            return false;
        }

        bool bad = false;
        for (int c = 0; c < _columns.Length; c++)
        {
            var failure = check.Check(lane, c, lane.Field(_ordinal[c]));
            if (failure != ValueCheck.CheckFailure.None)
            {
                counts.Rejects.Add(new RejectedRow(line, _columns[c].Name, ValueCheck.Describe(failure, _columns[c])));
                bad = true;
            }
        }

        key = parsedKey;
        if (!keyParsed)
        {
            if (!bad)
            {
                counts.Rejects.Add(new RejectedRow(line, _columns[_keyColumn].Name, _keyReject));
            }

            bad = true;
        }

        if (bad)
        {
            counts.RowsRejected++;
            return false;
        }

        if (_checkPermissions && !Permitted(lane, flags, out blankGeography))
        {
            return false;
        }

        for (int c = 0; c < _columns.Length; c++)
        {
            if (_countShape[c])
            {
                CountShape(counts, c, lane.Field(_ordinal[c]));
            }
        }

        for (int j = 0; j < _generalisedColumns.Length; j++)
        {
            int c = _generalisedColumns[j];
            rows.SetGeneralised(row, j, lane.Generalised[c].AsSpan(0, lane.GeneralisedLength[c]));
        }

        for (int j = 0; j < _codeColumns.Length; j++)
        {
            rows.Codes[(row * _codeColumns.Length) + j] = lane.Code[_codeColumns[j]];
        }

        if (_anyWarn)
        {
            CountUnexpected(counts, lane);
        }

        if (_temporalColumn >= 0)
        {
            CountMonth(counts, lane);
        }

        // The risk keys are built and hashed here, so the consumer only looks the hashes up.
        for (int g = 0; g < _groupings; g++)
        {
            rows.RiskHashes[(row * _groupings) + g] = RiskTally.KeyHash(riskKeys.RiskKey(rows, row, g, blankGeography, ref lane.KeyScratch, lane.DateScratch));
        }

        return true;
    }

    private void CountUnexpected(BatchCounts counts, Lane lane)
    {
        foreach (int c in _codeColumns)
        {
            if (_warnColumns[c] && lane.Code[c] == ValueCheck.UnexpectedCode)
            {
                counts.Unexpected[c]++;
            }
        }
    }

    /// <summary>The kept row's month of the temporal coverage column (its year and month were parsed by the check).</summary>
    private void CountMonth(BatchCounts counts, Lane lane)
    {
        int c = _temporalColumn;
        if (lane.Field(_ordinal[c]).IsEmpty)
        {
            return; // the check leaves an empty value's year and month as they were
        }

        int month = (lane.Year[c] * 12) + lane.Month[c] - 1;
        if (month < counts.MinMonth)
        {
            counts.MinMonth = month;
        }

        if (month > counts.MaxMonth)
        {
            counts.MaxMonth = month;
        }
    }

    /// <summary>Out of line, so <see cref="FilterRow"/> has no string-formatting locals to clear on every row.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RejectFieldCount(BatchCounts counts, long line, int fieldCount)
    {
        counts.Rejects.Add(new RejectedRow(line, "(row)", $"has {fieldCount} fields; the header has {_inputFieldCount}"));
        counts.RowsRejected++;
    }

    /// <summary>Applies the row's permission flags, looked up for its batch (-1: the key is in no snapshot).</summary>
    private bool Permitted(Lane lane, int found, out bool blankGeography)
    {
        blankGeography = false;
        DropReason? reason = null;
        var flags = (PermissionFlags)Math.Max(found, 0);
        if (found < 0)
        {
            reason = DropReason.UnknownParticipant;
        }
        else if ((flags & PermissionFlags.Active) == 0)
        {
            reason = DropReason.Withdrawn;
        }
        else if (_spec.NationalOptOutApplies && (flags & PermissionFlags.NationalOptOutApplies) != 0)
        {
            reason = DropReason.NationalOptOut;
        }
        else if ((flags & _spec.RequiredPermissions) != _spec.RequiredPermissions)
        {
            reason = DropReason.DatasetPermission;
        }
        else if (_geoColumns.Length > 0 && (flags & _spec.GeographyPermission) != _spec.GeographyPermission && HasGeography(lane))
        {
            if (_spec.GeographyWhenMissing == GeographyWhenMissing.DropRow)
            {
                reason = DropReason.GeographyPermission;
            }
            else
            {
                blankGeography = true;
            }
        }

        if (reason is { } r)
        {
            lane.Counts.Dropped[(int)r]++;
            return false;
        }

        return true;
    }

    private bool HasGeography(Lane lane)
    {
        foreach (int g in _geoColumns)
        {
            if (!lane.Field(_ordinal[g]).IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    private static void CountShape(BatchCounts counts, int c, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        counts.NonEmpty[c]++;
        if (value.Length is 10 or 12 && IdentifierShape.LooksLikeNhsNumber(value))
        {
            counts.NhsShaped[c]++;
        }
        else if (value.Length is >= 5 and <= 8 && IdentifierShape.LooksLikePostcode(value))
        {
            counts.PostcodeShaped[c]++;
        }
    }
}
