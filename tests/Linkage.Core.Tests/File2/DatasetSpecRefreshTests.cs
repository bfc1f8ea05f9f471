using Linkage.File2;

namespace Linkage.Core.Tests.File2;

/// <summary>The spec's <c>refresh</c> block (decision 0800): the schedule of the dataset's annual refresh.</summary>
public sealed class DatasetSpecRefreshTests
{
    [Fact]
    public void Without_a_block_a_dataset_refreshes_every_january_and_is_late_after_thirty_days()
    {
        var spec = Parse("");

        Assert.Equal(RefreshCadence.Annual, spec.Refresh.Cadence);
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), spec.Refresh.OpensAt(2027));
        Assert.Equal(new DateTimeOffset(2027, 1, 31, 0, 0, 0, TimeSpan.Zero), spec.Refresh.LateAt(2027));
    }

    [Fact]
    public void An_annual_block_sets_the_month_and_the_late_period()
    {
        var spec = Parse(""" "refresh": { "cadence": "annual", "expectedMonth": 8, "lateAfterDays": 45 }, """);

        Assert.Equal(new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero), spec.Refresh.OpensAt(2026));
        Assert.Equal(new DateTimeOffset(2026, 9, 15, 0, 0, 0, TimeSpan.Zero), spec.Refresh.LateAt(2026));
    }

    [Fact]
    public void Cadence_none_needs_no_month()
    {
        Assert.Equal(RefreshCadence.None, Parse(""" "refresh": { "cadence": "none" }, """).Refresh.Cadence);
    }

    [Theory]
    [InlineData(""" "refresh": { "cadence": "annual" }, """, "$.refresh.expectedMonth")]
    [InlineData(""" "refresh": { "cadence": "annual", "expectedMonth": 13 }, """, "$.refresh.expectedMonth")]
    [InlineData(""" "refresh": { "cadence": "annual", "expectedMonth": 4, "lateAfterDays": 0 }, """, "$.refresh.lateAfterDays")]
    [InlineData(""" "refresh": { "cadence": "monthly", "expectedMonth": 4 }, """, "$.refresh.cadence")]
    [InlineData(""" "refresh": { "cadence": "annual", "expectedMonth": 4, "month": 4 }, """, "$.refresh.month")]
    [InlineData(""" "refresh": "annual", """, "$.refresh")]
    public void A_bad_block_is_reported_at_its_path(string block, string path)
    {
        var e = Assert.Throws<DatasetSpecException>(() => Parse(block));
        Assert.Contains(e.Problems, p => p.JsonPath == path && p.Fix.Length > 0);
    }

    [Fact]
    public void Every_shipped_spec_states_its_refresh_and_loads()
    {
        var folder = Path.Combine(File2World.RepoRoot, "config", "datasets");
        foreach (var file in Directory.GetFiles(folder, "*.json"))
        {
            Assert.Contains("\"refresh\"", File.ReadAllText(file), StringComparison.Ordinal);
            _ = DatasetSpecLoader.LoadFile(file);
        }
    }

    private static DatasetSpec Parse(string refresh) => DatasetSpecLoader.Parse($$"""
        {
          "specVersion": 1, "datasetId": "refresh_test", "title": "t", "owner": "o", "source": "s", "legalBasis": "Consent (test)",
          "keyColumn": "k",
          {{refresh}}
          "permissions": { "required": ["NhsE"], "nationalOptOutApplies": true },
          "columns": [
            { "name": "k", "type": "string", "rule": "encrypt-id", "maxLength": 22 },
            { "name": "d", "type": "date", "format": "yyyy-MM-dd", "rule": "keep" }
          ]
        }
        """, "refresh.json");
}
