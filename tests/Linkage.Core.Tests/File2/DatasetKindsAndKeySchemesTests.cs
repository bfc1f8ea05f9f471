using System.Text;
using System.Text.Json;
using Linkage.File2;
using Linkage.Permissions;

namespace Linkage.Core.Tests.File2;

/// <summary>
/// Decision 0514 through the real pipeline: SDE patient keys (no snapshot, id-cipher tokens), reference data (no person
/// key), the LSOA11 spec's drop-row and warn rules, and the run statistics (distinct people, temporal coverage,
/// unexpected codes).
/// </summary>
public sealed class DatasetKindsAndKeySchemesTests : IDisposable
{
    private const string LsoaHeader = "cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt";
    private const string AscHeader = "patient_key,care_package_start_date,care_package_end_date,allocated_team,service_description";

    private static readonly PermissionSnapshotSet NoSnapshots = PermissionSnapshotSet.Merge([]);

    private readonly File2World _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task An_sde_patient_key_dataset_is_kept_without_any_snapshot_and_its_key_is_encrypted_with_the_id_cipher()
    {
        var spec = File2World.ShippedSpec("london_sde_asc_cld");
        string csv = $"""
            {AscHeader}
            LDN0000000417,2024-04-03,,Reablement East,Home care
            LDN0000000417,2024-06-11,2024-09-30,Reablement East,Day care
            LDN0000000417,2024-06-11,2024-09-30,Reablement East,Day care
            ldn-77_x,2023-05-05,2023-06-30,Hospital discharge,Short-term care
            LDN 0000009,2024-01-01,,Team A,Home care
            LDN000000099999X,2024-01-01,,Team A,Home care
            """ + "\n";

        var pipeline = new File2Pipeline(spec, NoSnapshots, _world.IdCipher, _world.GeoCipher, new File2PipelineOptions { MaxRejectShare = 0.5 });
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        using var output = new MemoryStream();
        var result = await pipeline.RunAsync(input, output, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        byte[] bytes = output.ToArray();
        string text = Encoding.UTF8.GetString(bytes);
        string key1 = _world.IdCipher.Encrypt("LDN0000000417");
        string key2 = _world.IdCipher.Encrypt("ldn-77_x");
        Assert.Equal(
            "patient_key_e,care_package_start_date,care_package_end_date,allocated_team,service_description\n" +
            $"{key1},2024-04,,Reablement East,Home care\n" +
            $"{key1},2024-06,2024-09,Reablement East,Day care\n" +
            $"{key2},2023-05,2023-06,Hospital discharge,Short-term care\n",
            text);
        foreach (string raw in new[] { "LDN0000000417", "ldn-77_x" })
        {
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(raw)));
        }

        // Kept with no snapshot at all: no UK LLC check applies.
        Assert.Equal(0, result.Counts.RowsDropped - result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(2, result.Counts.RowsRejected);
        Assert.Contains(result.Rejects, r => r.Line == 6 && r.Column == "patient_key" && r.Reason == "is not a valid patient key (1–15 letters, digits, - or _)");
        Assert.Contains(result.Rejects, r => r.Line == 7 && r.Column == "patient_key");
        Assert.DoesNotContain(result.Rejects, r => r.Reason.Contains("LDN", StringComparison.Ordinal));
        Assert.True(result.Counts.Reconciles);

        Assert.Equal(2, result.ParticipantCount);
        Assert.Equal(new TemporalCoverage("2023-05", "2024-06"), result.TemporalCoverage);
        var m = result.Metadata!;
        Assert.Equal("sde-patient-key", m.KeyScheme);
        Assert.Equal("none", m.PermissionChecks);
        Assert.Equal("participant", m.Kind);
        Assert.Equal(2, m.ParticipantCount);
        Assert.Empty(m.PermissionSnapshots);
        Assert.StartsWith("Joint data controller model", m.LegalBasis, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_sde_key_pads_exactly_as_a_geography_code_does()
    {
        Assert.True(SdePatientKey.TryPad("LDN123", out var block));
        Span<byte> expected = stackalloc byte[16];
        Linkage.Keys.BlockPadding.Pad("LDN123", expected);
        Assert.Equal(TokenBytes.FromBytes(expected), block);
        Assert.False(SdePatientKey.TryPad("", out _));
        Assert.False(SdePatientKey.TryPad("LDN12345678901234", out _));
        Assert.False(SdePatientKey.TryPad("LDN=1", out _));
        Assert.False(SdePatientKey.TryPad("LDNé1", out _));
        Assert.True(SdePatientKey.TryPad("A-b_9", out _));
    }

    [Fact]
    public async Task A_reference_dataset_is_curated_with_an_empty_snapshot_set_and_has_no_participant_count()
    {
        var spec = File2World.ShippedSpec("imd2019_lsoa11");
        string csv = "lsoa11cd,imd_decile\nE01000001,3\nE01000002,10\nE01000003,11\nE01000001,3\n";

        // Two areas cannot pass the place-based check (threshold 10); it has its own tests (PlaceBasedDisclosureCheckTests).

        var pipeline = new File2Pipeline(spec, NoSnapshots, _world.IdCipher, _world.GeoCipher, new File2PipelineOptions { MaxRejectShare = 0.5, PlaceBasedThreshold = 1 });
        using var output = new MemoryStream();
        var result = await pipeline.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), output, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(
            $"lsoa11cd_e,imd_decile\n{_world.GeoCipher.Encrypt("E01000001")},3\n{_world.GeoCipher.Encrypt("E01000002")},10\n",
            Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(1, result.Counts.RowsRejected);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(0, result.Counts.Dropped[DropReason.UnknownParticipant]);
        Assert.Null(result.ParticipantCount);
        Assert.Null(result.TemporalCoverage);
        Assert.Equal("reference", result.Metadata!.Kind);
        Assert.Equal("none", result.Metadata.KeyScheme);
        Assert.Null(result.Metadata.ParticipantCount);
    }

    [Fact]
    public async Task The_lsoa11_spec_drops_rows_of_participants_without_small_area_permission_instead_of_blanking()
    {
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        string csv = $"""
            {LsoaHeader}
            {_world.NoSmallArea},2020-01-01,E01000001,HES APC,2021-01-01
            {_world.NoSmallArea},2020-02-01,E01000002,GDPPR,
            {_world.NoSmallArea},2020-03-01,,HES OP,
            {_world.Permitted},2020-04-01,E01000003,HES APC,
            """ + "\n";

        var (result, output) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(2, result.Counts.Dropped[DropReason.GeographyPermission]);
        Assert.Equal(0, result.Counts.RowsWithGeographyBlanked);
        Assert.Equal(2, result.Counts.RowsWritten);
        Assert.DoesNotContain(",,HES APC", output, StringComparison.Ordinal);
        Assert.Contains($"{_world.TreId(_world.NoSmallArea)},2020-03-01,,HES OP,", output, StringComparison.Ordinal);
        Assert.Contains($"{_world.TreId(_world.Permitted)},2020-04-01,{_world.GeoCipher.Encrypt("E01000003")},HES APC,", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unexpected_origin_is_kept_as_neutralised_text_and_counted_without_its_value()
    {
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        string csv = $"""
            {LsoaHeader}
            {_world.Permitted},2020-01-01,E01000001,HES APC,
            {_world.Permitted},2020-01-02,E01000001,ECDS,
            {_world.Permitted2},2020-01-03,E01000002,=HYPERLINK("x"),
            {_world.Permitted2},2020-01-04,E01000002,"=1+2,3",
            {_world.Withdrawn},2020-01-05,E01000002,UNSEEN,
            """ + "\n";

        var (result, output) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(0, result.Counts.RowsRejected);
        Assert.Equal(4, result.Counts.RowsWritten);
        string[] lines = output.Split('\n');
        Assert.EndsWith(",HES APC,", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(",ECDS,", lines[2], StringComparison.Ordinal);
        Assert.DoesNotContain(",=", output, StringComparison.Ordinal);
        Assert.DoesNotContain(",\"=", output, StringComparison.Ordinal);
        Assert.Contains("'=HYPERLINK", lines[3], StringComparison.Ordinal);
        Assert.Contains("'=1+2,3", lines[4], StringComparison.Ordinal);

        // Counted over kept rows only (the withdrawn participant's value is not), and by output column.
        Assert.Equal(new Dictionary<string, long> { ["origin"] = 3 }, result.UnexpectedCodes);
        Assert.Equal(3, result.Metadata!.UnexpectedCodes["origin"]);
        string json = JsonSerializer.Serialize(result.Metadata);
        Assert.DoesNotContain("ECDS", json, StringComparison.Ordinal);
        Assert.DoesNotContain("HYPERLINK", json, StringComparison.Ordinal);
        Assert.Contains("\"UnexpectedCodes\":{\"origin\":3}", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)] // in the identifier sample
    [InlineData(1500)] // after it: only the whole-file count, which now covers warn code columns, can see them
    public async Task Unexpected_values_shaped_like_nhs_numbers_in_a_warn_column_stop_the_run_before_output(int cleanRowsFirst)
    {
        Assert.True(IdentifierShape.LooksLikeNhsNumber("9434765919"));
        var rows = Enumerable.Range(0, cleanRowsFirst + 400).Select(i =>
            $"{_world.Permitted},2020-01-{(i % 28) + 1:D2},E01000001,{(i >= cleanRowsFirst && i % 2 == 0 ? "9434765919" : "HES APC")},");

        var (result, output) = await _world.RunAsync(File2World.ShippedSpec("nhse_lsoa11_dataset_mapping"), LsoaHeader + "\n" + string.Join("\n", rows) + "\n");

        Assert.Equal(File2Outcome.IdentifierColumn, result.Outcome);
        Assert.Contains(result.Problems, p => p.Contains("origin", StringComparison.Ordinal));
        Assert.Equal("", output);
    }

    [Fact]
    public async Task A_rejecting_code_column_still_rejects_and_reports_no_unexpected_codes()
    {
        var (result, _) = await _world.RunAsync(File2World.LsoaSpecBlankingAndRejecting(), $"{LsoaHeader}\n{_world.Permitted},2020-01-01,E01000001,ECDS,\n{_world.Permitted},2020-01-01,E01000001,GDPPR,\n");

        Assert.Equal(1, result.Counts.RowsRejected);
        Assert.Contains(result.Rejects, r => r.Column == "origin" && r.Reason == "is not in the column's code list");
        Assert.Empty(result.UnexpectedCodes);
    }

    [Fact]
    public async Task The_participant_count_is_the_distinct_people_written_with_duplicates_and_dropped_people_in_the_input()
    {
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        string row(string token, string date, string lsoa = "E01000001") => $"{token},{date},{lsoa},HES APC,";
        string csv = string.Join("\n",
        [
            LsoaHeader,
            row(_world.Permitted, "2020-01-01"),
            row(_world.Permitted, "2020-01-01"), // duplicate
            row(_world.Permitted, "2020-02-01"),
            row(_world.Permitted2, "2020-01-01"),
            row(_world.Permitted2, "2020-01-01"), // duplicate
            row(_world.Withdrawn, "2020-01-01"),
            row(_world.NoNhsE, "2020-01-01"),
            row(_world.OptedOut, "2020-01-01"),
            row(_world.Unknown, "2020-01-01"),
            row(_world.NoSmallArea, "2020-01-01"), // dropped: area without permission
            row(_world.NoSmallArea, "2020-03-01", lsoa: ""), // kept: no area
            row(_world.NoSmallArea, "2020-03-01", lsoa: ""), // duplicate
        ]) + "\n";

        var (result, _) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(3, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(4, result.Counts.RowsWritten);
        Assert.Equal(3, result.ParticipantCount);
        Assert.Equal(3, result.Metadata!.ParticipantCount);
    }

    [Fact]
    public async Task Temporal_coverage_is_the_first_and_last_month_of_written_rows_only()
    {
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        string csv = $"""
            {LsoaHeader}
            {_world.Withdrawn},1999-01-15,E01000001,HES APC,
            {_world.NoSmallArea},1998-06-15,E01000001,HES APC,
            {_world.Permitted},1997-06-15,E0100000123,HES APC,
            {_world.Permitted},2019-05-31,E01000001,HES APC,
            {_world.Permitted2},2021-11-01,,GDPPR,1990-01-01
            {_world.Permitted},2020-07-04,E01000002,HES OP,
            {_world.Unknown},2030-01-01,E01000001,HES APC,
            """ + "\n";

        var (result, _) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(3, result.Counts.RowsWritten);
        Assert.Equal(1, result.Counts.RowsRejected);
        Assert.Equal(new TemporalCoverage("2019-05", "2021-11"), result.TemporalCoverage);
        Assert.Equal(result.TemporalCoverage, result.Metadata!.TemporalCoverage);
    }

    [Fact]
    public async Task Without_a_temporal_coverage_column_or_any_dated_row_the_coverage_is_null()
    {
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        var (empty, _) = await _world.RunAsync(spec, $"{LsoaHeader}\n{_world.Withdrawn},2019-05-31,E01000001,HES APC,\n");
        Assert.True(empty.Succeeded);
        Assert.Null(empty.TemporalCoverage);
        Assert.Equal(0, empty.ParticipantCount);

        var noColumn = DatasetSpecLoader.Parse(File.ReadAllText(Path.Combine(File2World.RepoRoot, "config/datasets/nhse_lsoa11_dataset_mapping.json"))
            .Replace("\"temporalCoverageColumn\": \"record_date\"", "\"series\": \"UK LLC Managed\"", StringComparison.Ordinal)
            .Replace("\"series\": \"UK LLC Managed\",\n", "", StringComparison.Ordinal), "no-coverage.json");
        Assert.Null(noColumn.Catalogue.TemporalCoverageColumn);
        var (result, _) = await _world.RunAsync(noColumn, $"{LsoaHeader}\n{_world.Permitted},2019-05-31,E01000001,HES APC,\n");
        Assert.True(result.Succeeded);
        Assert.Null(result.TemporalCoverage);
    }
}
