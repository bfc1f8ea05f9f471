using Linkage.File2;

namespace Linkage.Core.Tests.File2;

/// <summary>A London SDE social-care dataset (seed 002) added purely as a spec file goes through unchanged code.</summary>
public sealed class ThirdDatasetSpecTests : IDisposable
{
    private readonly File2World _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task A_social_care_dataset_added_only_as_a_spec_file_is_curated()
    {
        var spec = DatasetSpecLoader.LoadFile(Path.Combine(File2World.RepoRoot, "tests/Linkage.Core.Tests/File2/Specs/londonsde_asc_client_level.json"));
        string header = "patient_key_e,event_start_date,event_end_date,service_type,delivery_mechanism,age_at_event,gender,weekly_cost,ward_code,client_address\n";
        string csv = header +
            $"{_world.Permitted},03/04/2024,,LTS,Direct payment,67,F,412.50,E05013628,\"1 High Street, London\"\n" +
            $"{_world.Permitted},03/04/2024,,LTS,Direct payment,67,F,412.50,E05013628,\"1 High Street, London\"\n" +
            $"{_world.NoSmallArea},05/05/2024,30/06/2024,STS,Council managed,88,M,100,E05013629,2 Low Road\n" +
            $"{_world.NoSmallArea},05/05/2024,30/06/2024,STS,Council managed,88,M,100,,2 Low Road\n" +
            $"{_world.Withdrawn},05/05/2024,,CAR,,40,U,,E05013630,\n";

        var (result, output) = await _world.RunAsync(spec, csv);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        string tre = _world.TreId(_world.Permitted);
        string treNoArea = _world.TreId(_world.NoSmallArea);
        Assert.Equal(
            "patient_key_e,event_start_date,event_end_date,service_type,delivery_mechanism,age_at_event,gender,weekly_cost,ward_code_e\n" +
            $"{tre},2024-04,,LTS,Direct payment,60-69,F,412.50,{_world.GeoCipher.Encrypt("E05013628")}\n" +
            $"{treNoArea},2024-05,2024-06,STS,Council managed,85+,M,100,\n",
            output);
        Assert.DoesNotContain("High Street", output);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Duplicate]);
        Assert.Equal(1, result.Counts.Dropped[DropReason.GeographyPermission]);
        Assert.Equal(1, result.Counts.Dropped[DropReason.Withdrawn]);
        Assert.True(result.Counts.Reconciles);
        Assert.Equal(9, result.Metadata!.VariableCount);
        Assert.Equal("londonsde_asc_client_level", result.Metadata.DatasetId);
        Assert.Equal(["service_type × event_start_date:year", "gender"], result.Risk!.Marginals);
    }
}
