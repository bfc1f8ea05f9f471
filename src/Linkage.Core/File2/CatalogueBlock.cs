using System.Text.Json;

namespace Linkage.File2;

/// <summary>Reads a spec's optional <c>catalogue</c> block (docs/formats/dataset-spec.md): descriptive facts as published.</summary>
internal static class CatalogueBlock
{
    private static readonly string[] PublishedProps = ["measure", "count", "date", "source"];
    private static readonly string[] CitationProps = ["author", "publisher"];
    private static readonly string[] CatalogueProps = ["series", "keywords", "specificRestrictions", "citation", "publishingFrequency", "temporalCoverageColumn", "spatialCoverage", "published", "startDate", "endDate", "releaseDate"];

    public static DatasetCatalogueInfo Build(JsonElement root, List<ColumnSpec> columns, Problems problems)
    {
        const string cp = "$.catalogue";
        if (!root.TryGetProperty("catalogue", out var c))
        {
            return DatasetCatalogueInfo.Empty;
        }

        if (c.ValueKind != JsonValueKind.Object)
        {
            problems.Add(cp, "catalogue must be an object.", "Write \"catalogue\": { \"series\": …, \"publishingFrequency\": … }.");
            return DatasetCatalogueInfo.Empty;
        }

        problems.UnknownProperties(c, cp, CatalogueProps);
        CatalogueCitation? citation = null;
        if (c.TryGetProperty("citation", out var ce))
        {
            if (ce.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{cp}.citation", "citation must be an object.", "Write \"citation\": { \"author\": …, \"publisher\": … }.");
            }
            else
            {
                problems.UnknownProperties(ce, $"{cp}.citation", CitationProps);
                citation = new CatalogueCitation(problems.Text(ce, $"{cp}.citation", "author", required: false), problems.Text(ce, $"{cp}.citation", "publisher", required: false));
            }
        }

        string? temporal = problems.Text(c, cp, "temporalCoverageColumn", required: false);
        if (temporal is not null)
        {
            var column = columns.FirstOrDefault(x => x.Name == temporal);
            if (column is null || !column.IsOutput || column.Type != ColumnType.Date)
            {
                problems.Add($"{cp}.temporalCoverageColumn", $"'{temporal}' is not a date-typed output column of this spec.", "Name an input column with \"type\": \"date\" that is not excluded (e.g. record_date).");
            }
        }

        var published = new List<PublishedCount>();
        if (c.TryGetProperty("published", out var pe))
        {
            if (pe.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"{cp}.published", "published must be a list.", "Write \"published\": [ { \"measure\": \"Persons\", \"count\": 2258, \"date\": \"2025-10-21\", \"source\": \"…\" } ].");
            }
            else
            {
                int i = 0;
                foreach (var item in pe.EnumerateArray())
                {
                    string ip = $"{cp}.published[{i++}]";
                    if (item.ValueKind != JsonValueKind.Object)
                    {
                        problems.Add(ip, "Each published fact must be an object.", "Write { \"measure\": \"Persons\", \"count\": 2258, \"date\": \"2025-10-21\", \"source\": \"…\" }.");
                        continue;
                    }

                    problems.UnknownProperties(item, ip, PublishedProps);
                    string? measure = problems.Text(item, ip, "measure", required: true);
                    long? count = problems.Integer(item, ip, "count", required: true);
                    if (count is < 0)
                    {
                        problems.Add($"{ip}.count", "A published count cannot be negative.", "Write the count as published.");
                    }

                    string? date = problems.IsoDate(item, ip, "date", required: true);
                    string? source = problems.Text(item, ip, "source", required: true);
                    if (measure is not null && count is not null && date is not null && source is not null)
                    {
                        published.Add(new PublishedCount(measure, count.Value, date, source));
                    }
                }
            }
        }

        string? start = problems.IsoDate(c, cp, "startDate", required: false);
        string? end = problems.IsoDate(c, cp, "endDate", required: false);
        if (start is not null && end is not null && string.CompareOrdinal(start, end) > 0)
        {
            problems.Add($"{cp}.endDate", $"endDate {end} is before startDate {start}.", "Write the dates as published.");
        }

        return new DatasetCatalogueInfo(
            problems.Text(c, cp, "series", required: false),
            problems.TextList(c, cp, "keywords"),
            problems.Text(c, cp, "specificRestrictions", required: false),
            citation,
            problems.Text(c, cp, "publishingFrequency", required: false),
            temporal,
            problems.TextList(c, cp, "spatialCoverage"),
            published,
            start,
            end,
            problems.IsoDate(c, cp, "releaseDate", required: false));
    }
}
