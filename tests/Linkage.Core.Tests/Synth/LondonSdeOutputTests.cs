using System.Security.Cryptography;
using System.Text;
using Linkage.Core.Tests.File2;
using Linkage.File2;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

/// <summary>The London SDE File 2s and the IMD table from <c>linkage synth</c>: their shape, and that each is curated cleanly by its shipped spec.</summary>
public sealed class LondonSdeOutputTests(SynthOutputFixture output) : IClassFixture<SynthOutputFixture>
{
    private static readonly SynthOptions Options = SynthOutputFixture.Options;

    [Fact]
    public void Adult_social_care_rows_are_keyed_by_sde_patient_keys_that_look_like_no_identifier()
    {
        string path = output.File2Path(LondonSdeAscCldSynthesizer.DatasetName);
        Assert.Equal(["patient_key", "care_package_start_date", "care_package_end_date", "allocated_team", "service_description"], CsvLines.Header(path));
        var rows = CsvLines.Rows(path).ToList();
        Assert.Equal(Options.LondonSdeRows, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Matches("^LDN[0-9]{10}$", r[0]);
            Assert.True(SdePatientKey.IsValid(r[0]));
            Assert.False(IdentifierShape.LooksLikeNhsNumber(r[0]) || IdentifierShape.LooksLikePostcode(r[0]));
            var start = DateOnly.ParseExact(r[1], "yyyy-MM-dd");
            Assert.InRange(start, LondonSdeAscCldSynthesizer.StartDate, new SynthGenerator(Options).File2DeliveredOn);
            Assert.True(r[2].Length == 0 || DateOnly.ParseExact(r[2], "yyyy-MM-dd") > start);
            Assert.Contains(r[3], LondonSdeAscCldSynthesizer.Teams);
            Assert.Contains(r[4], LondonSdeAscCldSynthesizer.Services);
        });
        Assert.Equal(Options.LondonSdeAscPatients, rows.Select(r => r[0]).Distinct().Count());
        Assert.Contains(rows, r => r[2].Length == 0);
    }

    [Fact]
    public void Children_looked_after_rows_are_within_the_seed_coverage_and_their_people_are_not_the_adult_social_care_people()
    {
        string path = output.File2Path(LondonSdeClaSynthesizer.DatasetName);
        Assert.Equal(["patient_key", "activity_date", "local_authority", "activity_type"], CsvLines.Header(path));
        var rows = CsvLines.Rows(path).ToList();
        Assert.Equal(Options.LondonSdeClaRows, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Matches("^LDN[0-9]{10}$", r[0]);
            Assert.InRange(DateOnly.ParseExact(r[1], "yyyy-MM-dd"), new DateOnly(2018, 4, 1), new DateOnly(2023, 3, 31));
            Assert.Contains(r[2], LondonSdeClaSynthesizer.LocalAuthorities);
        });
        var cla = rows.Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
        var asc = CsvLines.Rows(output.File2Path(LondonSdeAscCldSynthesizer.DatasetName)).Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(Options.LondonSdeClaPatients, cla.Count);
        Assert.Empty(cla.Intersect(asc));
    }

    [Fact]
    public void Patient_keys_are_distinct_for_distinct_patients_and_depend_on_the_seed()
    {
        var keys = Enumerable.Range(0, 20_000).Select(i => LondonSdeSynthesizer.PatientKey(5, i)).ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.NotEqual(LondonSdeSynthesizer.PatientKey(5, 0), LondonSdeSynthesizer.PatientKey(6, 0));
        Assert.All(keys, k => Assert.Equal(13, k.Length));
    }

    [Theory]
    [InlineData(LondonSdeAscCldSynthesizer.DatasetName, "file2/london_sde_asc_cld")]
    [InlineData(LondonSdeClaSynthesizer.DatasetName, "file2/london_sde_cla")]
    [InlineData("imd2019_lsoa11", "reference")]
    public async Task Each_synthetic_file_is_curated_by_its_shipped_spec_without_rejects_and_without_any_snapshot(string datasetId, string folder)
    {
        var record = Assert.Single(output.Manifest.Files, f => f.Path.StartsWith(folder + "/", StringComparison.Ordinal));
        byte[] input = File.ReadAllBytes(output.PathOf(record.Path));
        using var id = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "id-v1");
        using var geo = new BlockTokenCipher(RandomNumberGenerator.GetBytes(32), "geo-v1");
        var pipeline = new File2Pipeline(File2World.ShippedSpec(datasetId), PermissionSnapshotSet.Merge([]), id, geo, new File2PipelineOptions());
        using var curated = new MemoryStream();

        var result = await pipeline.RunAsync(new MemoryStream(input), curated, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(record.Rows, result.Counts.RowsIn);
        Assert.Equal(0, result.Counts.RowsRejected);
        Assert.Empty(result.Risk!.IdentifierLookingColumns);
        string text = Encoding.UTF8.GetString(curated.ToArray());
        if (datasetId == "imd2019_lsoa11")
        {
            Assert.Null(result.ParticipantCount);
            Assert.Equal(LsoaCodes.Count, result.Counts.RowsWritten);
            Assert.DoesNotContain("E01000001", text, StringComparison.Ordinal);
        }
        else
        {
            long duplicates = record.Counts.Single(c => c.Key == "duplicateRows").Value;
            Assert.Equal(record.Counts.Single(c => c.Key == "patients").Value, result.ParticipantCount);
            Assert.Equal(duplicates, result.Counts.Dropped[DropReason.Duplicate]);
            var rawKeys = CsvLines.Rows(output.PathOf(record.Path)).Select(r => r[0]).Distinct(StringComparer.Ordinal).ToList();
            Assert.All(rawKeys, key => Assert.DoesNotContain(key, text, StringComparison.Ordinal));
            Assert.NotNull(result.TemporalCoverage);
        }
    }
}
