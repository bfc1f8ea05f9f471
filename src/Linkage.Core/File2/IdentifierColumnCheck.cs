namespace Linkage.File2;

/// <summary>
/// Stops a run whose kept (clear-text) columns look like NHS numbers or postcodes: on the first rows before anything
/// is staged, and over the whole file before anything is written.
/// </summary>
internal sealed class IdentifierColumnCheck(ColumnPlan plan, File2PipelineOptions options)
{
    private readonly ColumnSpec[] _columns = plan.Columns;
    private readonly bool[] _checkShape = plan.CheckShape;
    private readonly int[] _ordinal = plan.Ordinal;
    private readonly File2PipelineOptions _options = options;

    public List<string> Sample(List<RowBatch> sample, int maxRows)
    {
        var problems = new List<string>();
        int rows = Math.Min(maxRows, sample.Sum(b => b.Count));
        for (int c = 0; c < _columns.Length; c++)
        {
            if (!_checkShape[c])
            {
                continue;
            }

            long nonEmpty = 0, nhs = 0, postcode = 0;
            int seen = 0;
            foreach (var batch in sample)
            {
                for (int r = 0; r < batch.Count && seen < rows; r++, seen++)
                {
                    if (batch.FieldCount(r) != plan.InputFieldCount)
                    {
                        continue;
                    }

                    ReadOnlySpan<char> value = batch.Field(r, _ordinal[c]);
                    if (value.IsEmpty)
                    {
                        continue;
                    }

                    nonEmpty++;
                    nhs += IdentifierShape.LooksLikeNhsNumber(value) ? 1 : 0;
                    postcode += IdentifierShape.LooksLikePostcode(value) ? 1 : 0;
                }
            }

            AddShapeProblem(problems, c, nonEmpty, nhs, postcode, $"the first {rows} rows");
        }

        return problems;
    }

    public List<string> WholeFile(RunTally tally)
    {
        var problems = new List<string>();
        for (int c = 0; c < _columns.Length; c++)
        {
            if (_checkShape[c])
            {
                AddShapeProblem(problems, c, tally.NonEmpty[c], tally.NhsShaped[c], tally.PostcodeShaped[c], "the whole file");
            }
        }

        return problems;
    }

    private void AddShapeProblem(List<string> problems, int c, long nonEmpty, long nhs, long postcode, string where)
    {
        if (nonEmpty == 0)
        {
            return;
        }

        double threshold = Math.Max(1, _options.IdentifierShare * nonEmpty);
        if (nhs >= threshold || postcode >= threshold)
        {
            string shape = nhs >= postcode ? "NHS numbers (10 digits passing the Modulus 11 check)" : "UK postcodes";
            problems.Add($"Column '{_columns[c].Name}' is kept in the clear, but {Math.Max(nhs, postcode)} of {nonEmpty} non-empty values in {where} look like {shape}. " +
                         "Nothing was written. Check the delivery; if the column really is an identifier, set its rule to exclude (or encrypt-geography for areas).");
        }
    }

}
