using Linkage.File2;
using Linkage.Permissions;

namespace Linkage.Core.Tests.File2;

public sealed class DatasetSpecLoaderTests
{
    [Theory]
    [InlineData("nhse_lsoa11_dataset_mapping", 5)]
    [InlineData("nhse_hes_apc", 13)]
    public void Shipped_specs_load(string datasetId, int columns)
    {
        var spec = File2World.ShippedSpec(datasetId);

        Assert.Equal(datasetId, spec.DatasetId);
        Assert.Equal(columns, spec.Columns.Count);
        Assert.Equal("cohortkey_e", spec.KeyColumn);
        Assert.Equal(PermissionFlags.NhsE, spec.RequiredPermissions);
        Assert.Equal(PermissionFlags.SmallArea, spec.GeographyPermission);
        Assert.True(spec.NationalOptOutApplies);
        Assert.Equal("lsoa11cd_e", spec.Columns.Single(c => c.Name == "lsoa11cd").OutputName);
        Assert.Equal(64, spec.SpecSha256.Length);
    }

    [Fact]
    public void A_bad_spec_gets_one_error_listing_every_problem_with_path_and_fix()
    {
        const string json = """
        {
          "specVersion": 1,
          "datasetId": "Bad Id",
          "title": "t",
          "owner": "o",
          "keyColumn": "key",
          "permissions": { "required": ["NhsEngland"], "nationalOptOutApplies": "yes" },
          "columns": [
            { "name": "key", "type": "string", "rule": "encrypt-id" },
            { "name": "when", "type": "date", "rule": "keep" },
            { "name": "lsoa", "type": "string", "rule": "encrypt-geography", "maxLength": 20 },
            { "name": "age", "type": "integer", "rule": "generalise", "generalise": { "to": "month" } },
            { "name": "age", "type": "number", "rulle": "keep" }
          ],
          "risk": { "marginals": [["lsoa"], ["nope:year"]] }
        }
        """;

        var e = Assert.Throws<DatasetSpecException>(() => DatasetSpecLoader.Parse(json, "bad.json"));

        string[] expectedPaths =
        [
            "$.datasetId", "$.source", "$.permissions.required[0]", "$.permissions.nationalOptOutApplies",
            "$.columns[1].format", "$.columns[2].maxLength", "$.columns[3].generalise.to", "$.columns[4].type",
            "$.columns[4].rulle", "$.columns[4].rule", "$.columns", "$.permissions.geography", "$.risk.marginals[0][0]",
            "$.risk.marginals[1][0]",
        ];
        foreach (string path in expectedPaths)
        {
            Assert.Contains(e.Problems, p => p.JsonPath == path);
        }

        Assert.All(e.Problems, p =>
        {
            Assert.Equal("bad.json", p.File);
            Assert.False(string.IsNullOrWhiteSpace(p.Fix));
        });
        Assert.Contains("$.columns[4].rulle: Unknown property 'rulle'", e.Message);
        Assert.Contains("Column 'age' is listed 2 times", e.Message);
        Assert.Contains($"({e.Problems.Count} problems)", e.Message);
    }

    [Fact]
    public void Invalid_json_names_the_line()
    {
        var e = Assert.Throws<DatasetSpecException>(() => DatasetSpecLoader.Parse("{\n \"datasetId\": \"x\",\n \"title\" \"y\"\n}", "broken.json"));

        var problem = Assert.Single(e.Problems);
        Assert.Contains("line 3", problem.Problem);
    }

    [Theory]
    [InlineData("yyyy-MM-dd", "2024-02-29", true)]
    [InlineData("yyyy-MM-dd", "2023-02-29", false)]
    [InlineData("dd/MM/yyyy", "31/12/1999", true)]
    [InlineData("dd/MM/yyyy", "31/13/1999", false)]
    [InlineData("yyyyMMdd", "20200101", true)]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2020-01-01 23:59:59", true)]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2020-01-01 24:00:00", false)]
    [InlineData("yyyy-MM-dd", "2020-1-01", false)]
    public void Date_formats_parse_exactly(string format, string value, bool valid)
    {
        Assert.Equal(valid, DateFormat.Create(format).TryParse(value, out _, out _, out _));
    }

    [Theory]
    [InlineData("9434765919", true, false)]
    [InlineData("943 476 5919", true, false)]
    [InlineData("9434765918", false, false)]
    [InlineData("E01000001", false, false)]
    [InlineData("SW1A 1AA", false, true)]
    [InlineData("ls61aa", false, true)]
    [InlineData("M1 1AE", false, true)]
    [InlineData("HES_APC", false, false)]
    [InlineData("I21X", false, false)]
    [InlineData("2020-01", false, false)]
    public void Identifier_shapes_are_recognised(string value, bool nhs, bool postcode)
    {
        Assert.Equal(nhs, IdentifierShape.LooksLikeNhsNumber(value));
        Assert.Equal(postcode, IdentifierShape.LooksLikePostcode(value));
    }
}
