using Linkage.Permissions;

namespace Linkage.File2;

/// <summary>What a curated run reports besides its rows: the catalogue metadata and the disclosure-risk report.</summary>
internal static class CurationReport
{
    public static CuratedMetadata Metadata(ColumnPlan plan, long written, string idKeyVersion, string geographyKeyVersion, PermissionSnapshotSet permissions)
    {
        var variables = plan.OutputColumns.Select(c => plan.Columns[c]).Select(c => new CuratedVariable(
            c.OutputName, c.Name, c.OutputTypeName, ColumnPlan.RuleName(c.Rule), c.Description,
            c.Rule == ColumnRule.Generalise ? new Dictionary<string, string>() : c.Labels)).ToList();
        return new CuratedMetadata(
            plan.Spec.DatasetId, plan.Spec.Title, plan.Spec.Owner, plan.Spec.Source, plan.Spec.CitationPrefix, plan.Spec.SpecSha256, "csv",
            variables, written, variables.Count, idKeyVersion, geographyKeyVersion,
            permissions.Sources.Select(s => $"{s.StudyCode} File 1 v{s.File1Version}").ToList(), permissions.TokenKeyVersions);
    }

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
            var dims = plan.Spec.Marginals[g].Select(d => plan.Columns[d.ColumnIndex].Name + (d.Granularity == Generalisation.None ? "" : ":" + d.Granularity.ToString().ToLowerInvariant())).ToList();
            string name = string.Join(" × ", dims);
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
                        small.Add(new SmallCell(name, string.Join(", ", dims.Zip(values, (d, v) => $"{d}={(v.Length == 0 ? "(empty)" : v)}"))));
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
