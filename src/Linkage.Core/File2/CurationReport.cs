using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>What a curated run reports besides its rows: the catalogue metadata and the disclosure-risk report.</summary>
internal static class CurationReport
{
    /// <summary>yyyy-MM of the earliest and latest kept month of the temporal coverage column; null when none.</summary>
    public static TemporalCoverage? Coverage(RunTally tally) =>
        tally.MinMonth > tally.MaxMonth ? null : new TemporalCoverage(Month(tally.MinMonth), Month(tally.MaxMonth));

    private static string Month(int months) => $"{months / 12:D4}-{(months % 12) + 1:D2}";

    /// <summary>Per warn column (by output name): how many kept values were outside its code list (never the values).</summary>
    public static IReadOnlyDictionary<string, long> UnexpectedCodes(ColumnPlan plan, RunTally tally) =>
        Enumerable.Range(0, plan.Columns.Length).Where(c => plan.WarnColumns[c] && plan.Columns[c].IsOutput)
            .ToDictionary(c => plan.Columns[c].OutputName, c => tally.Unexpected[c], StringComparer.Ordinal);

    public static CuratedMetadata Metadata(ColumnPlan plan, long written, string idKeyVersion, string geographyKeyVersion, PermissionSnapshotSet permissions, CuratedStatistics statistics)
    {
        var variables = plan.OutputColumns.Select(c => plan.Columns[c]).Select(c => new CuratedVariable(
            c.OutputName, c.Name, c.OutputTypeName, ColumnPlan.RuleName(c.Rule), c.Description,
            c.Rule == ColumnRule.Generalise ? new Dictionary<string, string>() : c.Labels)).ToList();
        return new CuratedMetadata(
            plan.Spec.DatasetId, plan.Spec.Title, plan.Spec.Owner, plan.Spec.Source, plan.Spec.SpecSha256, "csv",
            variables, written, variables.Count, idKeyVersion, geographyKeyVersion,
            plan.CheckPermissions ? permissions.Sources.Select(s => $"{s.StudyCode} File 1 v{s.File1Version}").ToList() : [],
            plan.CheckPermissions ? permissions.TokenKeyVersions : [])
        {
            Kind = KindName(plan.Spec.Kind),
            KeyScheme = KeySchemeName(plan.Spec.KeyScheme),
            PermissionChecks = plan.CheckPermissions ? "ukllc" : "none",
            LegalBasis = plan.Spec.LegalBasis,
            Description = plan.Spec.Description,
            ParticipantCount = statistics.ParticipantCount,
            TemporalCoverage = statistics.TemporalCoverage,
            UnexpectedCodes = statistics.UnexpectedCodes,
        };
    }

    public static string KindName(DatasetKind kind) => kind == DatasetKind.Reference ? "reference" : "participant";

    public static string KeySchemeName(KeyScheme scheme) => scheme switch
    {
        KeyScheme.SdePatientKey => "sde-patient-key",
        KeyScheme.None => "none",
        _ => "ukllc-ttp-token",
    };

    /// <summary>How a cell label shows an empty value (a value "(empty)" reads the same: one label, both cells).</summary>
    public const string EmptyValue = "(empty)";

    /// <summary>Between a marginal's dimensions in its name.</summary>
    public const string DimensionSeparator = " × ";

    /// <summary>Between the <c>dimension=value</c> parts of a cell label.</summary>
    public const string CellSeparator = ", ";

    /// <summary>A marginal dimension as the report names it: the input column name, with <c>:year</c> or <c>:month</c> when reduced.</summary>
    public static string DimensionName(DatasetSpec spec, MarginalDimension d) =>
        spec.Columns[d.ColumnIndex].Name + (d.Granularity == Generalisation.None ? "" : ":" + d.Granularity.ToString().ToLowerInvariant());

    /// <summary>Marginal <paramref name="g"/>'s name in the report, e.g. <c>origin × record_date:year</c>.</summary>
    public static string MarginalName(DatasetSpec spec, int g) => string.Join(DimensionSeparator, spec.Marginals[g].Select(d => DimensionName(spec, d)));

    public static DisclosureRiskReport RiskReport(ColumnPlan plan, RiskTally risk, RunTally tally, int threshold)
    {
        const int maxCells = 1000;
        var small = new List<SmallCell>();
        long cells = 0;
        bool truncated = false;
        bool complete = true;
        var marginalNames = new List<string>();
        for (int g = 0; g < plan.Spec.Marginals.Count; g++)
        {
            var dims = plan.Spec.Marginals[g].Select(d => DimensionName(plan.Spec, d)).ToList();
            string name = MarginalName(plan.Spec, g);
            marginalNames.Add(name);
            complete &= risk.UntrackedRows(g) == 0;
            foreach (var (key, count) in risk.Cells(g))
            {
                cells++;
                if (count < threshold)
                {
                    if (small.Count < maxCells)
                    {
                        var values = RiskKeys.RiskKeyParts(key);
                        small.Add(new SmallCell(name, string.Join(CellSeparator, dims.Zip(values, (d, v) => $"{d}={(v.Length == 0 ? EmptyValue : v)}"))));
                    }
                    else
                    {
                        truncated = true;
                    }
                }
            }
        }

        long combos = 0, rare = 0, rareRecords = 0;
        var qiNames = plan.Spec.QuasiIdentifiers.Select(c => plan.Columns[c].OutputName).ToList();
        if (plan.Spec.QuasiIdentifiers.Count > 0)
        {
            int g = plan.Spec.Marginals.Count;
            complete &= risk.UntrackedRows(g) == 0;
            foreach (var (_, count) in risk.Cells(g))
            {
                combos++;
                if (count < threshold)
                {
                    rare++;
                    rareRecords += count;
                }
            }
        }

        var identifierLooking = Enumerable.Range(0, plan.Columns.Length)
            .Where(c => plan.CheckShape[c] && (tally.NhsShaped[c] > 0 || tally.PostcodeShaped[c] > 0))
            .Select(c => new IdentifierLookingColumn(plan.Columns[c].OutputName, tally.NhsShaped[c], tally.PostcodeShaped[c], tally.NonEmpty[c]))
            .ToList();
        return new DisclosureRiskReport(threshold, marginalNames, cells, small, truncated, qiNames, combos, rare, rareRecords, complete, identifierLooking);
    }
}
