namespace Linkage.File2;

/// <summary>
/// The key of a row in each risk grouping (marginals, then the quasi-identifier set): each value behind its length, so
/// no value can shift a boundary. Workers build and hash them; the consumer builds one only for a key seen first.
/// </summary>
internal sealed class RiskKeys(ColumnPlan plan)
{
    private readonly ColumnSpec[] _columns = plan.Columns;
    private readonly int[] _ordinal = plan.Ordinal;
    private readonly int[] _generalisedIndex = plan.GeneralisedIndex;
    private readonly int[][] _riskColumns = plan.RiskColumns;
    private readonly Generalisation[][] _riskGranularity = plan.RiskGranularity;

    /// <summary>The values of a risk key built by <see cref="RiskKey"/>.</summary>
    public static List<string> RiskKeyParts(string key)
    {
        var parts = new List<string>();
        for (int at = 0; at + 2 <= key.Length;)
        {
            int length = (key[at] << 16) | key[at + 1];
            parts.Add(key.Substring(at + 2, length));
            at += 2 + length;
        }

        return parts;
    }

    /// <summary>The key of a row in risk grouping <paramref name="g"/> (each value behind its length), built in <paramref name="keyScratch"/>.</summary>
    public ReadOnlySpan<char> RiskKey(RowBatch rows, int row, int g, bool blankGeography, ref char[] keyScratch, char[] dateScratch)
    {
        int used = 0;
        int[] columns = _riskColumns[g];
        Generalisation[] granularities = _riskGranularity[g];
        for (int i = 0; i < columns.Length; i++)
        {
            int c = columns[i];
            var granularity = granularities[i];

            ReadOnlySpan<char> value = rows.Field(row, _ordinal[c]);
            Span<char> scratch = dateScratch;
            if (value.IsEmpty)
            {
                value = [];
            }
            else if (granularity is Generalisation.Year or Generalisation.Month)
            {
                // A checked value holds its year as four digits, which is what Year writes; likewise yyyy-MM.
                var format = _columns[c].DateFormat!;
                if (granularity == Generalisation.Year)
                {
                    value = value.Slice(format.YearOffset, 4);
                }
                else if (format.HasYearDashMonth)
                {
                    value = value.Slice(format.YearOffset, 7);
                }
                else
                {
                    format.TryParse(value, out int year, out int month, out _);
                    value = scratch[..ValueCheck.YearMonth(year, month, scratch)];
                }
            }
            else if (_columns[c].Rule == ColumnRule.Generalise)
            {
                value = rows.Generalised(row, _generalisedIndex[c]);
            }
            else if (_columns[c].Rule == ColumnRule.EncryptGeography && blankGeography)
            {
                value = [];
            }

            // Each part behind its length (two chars), so no value, whatever characters it holds, can shift a boundary.
            if (used + value.Length + 2 > keyScratch.Length)
            {
                Array.Resize(ref keyScratch, (used + value.Length + 2) * 2);
            }

            keyScratch[used++] = (char)(value.Length >> 16);
            keyScratch[used++] = (char)value.Length;
            value.CopyTo(keyScratch.AsSpan(used));
            used += value.Length;
        }

        return keyScratch.AsSpan(0, used);
    }
}
