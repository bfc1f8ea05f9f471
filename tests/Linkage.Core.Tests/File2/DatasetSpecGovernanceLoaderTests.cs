using Linkage.File2;
using Linkage.Permissions;

namespace Linkage.Core.Tests.File2;

/// <summary>The loader's handling of decision 0514's properties: each accepted, and each misuse reported at its path.</summary>
public sealed class DatasetSpecGovernanceLoaderTests
{
    private const string UkllcColumns = """
        { "name": "k", "type": "string", "rule": "encrypt-id", "maxLength": 22 },
        { "name": "d", "type": "date", "format": "yyyy-MM-dd", "rule": "keep" },
        { "name": "o", "type": "code", "rule": "keep", "labels": { "A": "a" } },
        { "name": "x", "type": "string", "rule": "exclude" }
        """;

    private const string UkllcPermissions = """ "permissions": { "required": ["NhsE"], "nationalOptOutApplies": true } """;

    [Fact]
    public void Defaults_are_a_ukllc_participant_dataset_with_rejecting_code_columns_and_an_empty_catalogue()
    {
        var spec = Parse(Spec());

        Assert.Equal(DatasetKind.Participant, spec.Kind);
        Assert.Equal(KeyScheme.UkllcTtpToken, spec.KeyScheme);
        Assert.Equal(PermissionChecks.Ukllc, spec.PermissionChecks);
        Assert.Equal("Consent (test)", spec.LegalBasis);
        Assert.Equal("about the data", spec.Description);
        Assert.Equal(UnexpectedCode.Reject, spec.Columns[2].OnUnexpected);
        Assert.Same(DatasetCatalogueInfo.Empty, spec.Catalogue);
        Assert.Empty(spec.Catalogue.Published);
    }

    [Fact]
    public void The_legal_basis_is_required_and_non_empty()
    {
        Problem(Spec(legalBasis: null), "$.legalBasis");
        Problem(Spec(legalBasis: "\"\""), "$.legalBasis");
        Problem(Spec(legalBasis: "3"), "$.legalBasis");
    }

    [Fact]
    public void Citation_prefix_is_an_unknown_property_whose_fix_names_the_doi_configuration()
    {
        var p = Problem(Spec(extra: """ "citationPrefix": "10.71760/ukllc-dataset-00441", """), "$.citationPrefix");

        Assert.Contains("Unknown property", p.Problem, StringComparison.Ordinal);
        Assert.Contains("Catalogue:Datasets:gov_test:Doi", p.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_properties_stay_errors_in_the_new_blocks()
    {
        Problem(Spec(extra: """ "kinds": "reference", """), "$.kinds");
        Problem(Spec(catalogue: """ { "serie": "x" } """), "$.catalogue.serie");
        Problem(Spec(catalogue: """ { "citation": { "authors": "x" } } """), "$.catalogue.citation.authors");
        Problem(Spec(catalogue: """ { "published": [ { "measure": "Persons", "count": 1, "date": "2025-01-01", "source": "s", "n": 1 } ] } """), "$.catalogue.published[0].n");
    }

    [Theory]
    [InlineData("\"kind\": \"people\",", "$.kind")]
    [InlineData("\"keyScheme\": \"nhs-number\",", "$.keyScheme")]
    [InlineData("\"keyScheme\": \"none\",", "$.keyScheme")]
    [InlineData("\"kind\": \"reference\", \"keyScheme\": \"sde-patient-key\",", "$.keyScheme")]
    public void Kind_and_key_scheme_must_be_known_and_agree(string extra, string path) => Problem(Spec(extra: extra), path);

    [Fact]
    public void An_sde_patient_key_spec_needs_checks_none_and_a_key_of_at_most_15_characters()
    {
        string sdeColumns = """{ "name": "k", "type": "string", "rule": "encrypt-id", "maxLength": 15 }, { "name": "d", "type": "date", "format": "yyyy-MM-dd", "rule": "keep" }""";
        var spec = Parse(Spec(extra: "\"keyScheme\": \"sde-patient-key\",", columns: sdeColumns, permissions: """ "permissions": { "checks": "none" } """));
        Assert.Equal(KeyScheme.SdePatientKey, spec.KeyScheme);
        Assert.Equal(PermissionChecks.None, spec.PermissionChecks);
        Assert.Equal(PermissionFlags.None, spec.RequiredPermissions);
        Assert.False(spec.NationalOptOutApplies);

        Problem(Spec(extra: "\"keyScheme\": \"sde-patient-key\",", columns: sdeColumns), "$.permissions.checks");
        Problem(Spec(extra: "\"keyScheme\": \"sde-patient-key\",", columns: sdeColumns.Replace("15", "22", StringComparison.Ordinal), permissions: """ "permissions": { "checks": "none" } """), "$.columns[0].maxLength");
    }

    [Theory]
    [InlineData("""{ "checks": "none", "required": ["NhsE"] }""", "$.permissions.required")]
    [InlineData("""{ "checks": "none", "nationalOptOutApplies": true }""", "$.permissions.nationalOptOutApplies")]
    [InlineData("""{ "checks": "none", "geography": { "flag": "SmallArea", "whenMissing": "blank" } }""", "$.permissions.geography")]
    [InlineData("""{ "checks": "sometimes" }""", "$.permissions.checks")]
    public void Checks_none_takes_no_flag_opt_out_or_geography(string permissions, string path)
    {
        string columns = """{ "name": "k", "type": "string", "rule": "encrypt-id", "maxLength": 15 }, { "name": "g", "type": "string", "rule": "encrypt-geography", "maxLength": 9 }""";
        Problem(Spec(extra: "\"keyScheme\": \"sde-patient-key\",", columns: columns, permissions: $"\"permissions\": {permissions}"), path);
    }

    [Fact]
    public void Checks_none_accepts_empty_required_and_false_opt_out_and_a_geography_column_without_a_geography_block()
    {
        string columns = """{ "name": "k", "type": "string", "rule": "encrypt-id", "maxLength": 15 }, { "name": "g", "type": "string", "rule": "encrypt-geography", "maxLength": 9 }""";
        var spec = Parse(Spec(extra: "\"keyScheme\": \"sde-patient-key\",", columns: columns, permissions: """ "permissions": { "checks": "none", "required": [], "nationalOptOutApplies": false } """));
        Assert.Equal(PermissionChecks.None, spec.PermissionChecks);
    }

    [Fact]
    public void Ttp_tokens_cannot_skip_the_ukllc_checks()
    {
        Problem(Spec(permissions: """ "permissions": { "checks": "none" } """), "$.permissions.checks");
    }

    [Fact]
    public void A_reference_dataset_has_no_encrypt_id_column_and_its_key_column_names_an_output_column()
    {
        string columns = """{ "name": "lsoa11cd", "type": "string", "rule": "encrypt-geography", "maxLength": 9 }, { "name": "v", "type": "integer", "rule": "keep" }""";
        var spec = Parse(Spec(extra: "\"kind\": \"reference\",", keyColumn: "lsoa11cd", columns: columns, permissions: """ "permissions": { "checks": "none" } """));
        Assert.Equal(DatasetKind.Reference, spec.Kind);
        Assert.Equal(KeyScheme.None, spec.KeyScheme);
        Assert.Equal(-1, spec.KeyColumnIndex);

        Problem(Spec(extra: "\"kind\": \"reference\",", keyColumn: "nope", columns: columns, permissions: """ "permissions": { "checks": "none" } """), "$.keyColumn");
        Problem(Spec(extra: "\"kind\": \"reference\",", keyColumn: "k", permissions: """ "permissions": { "checks": "none" } """), "$.columns");
        Problem(Spec(extra: "\"kind\": \"reference\",", keyColumn: "lsoa11cd", columns: columns, permissions: """ "permissions": { "required": [], "nationalOptOutApplies": false } """), "$.permissions.checks");
    }

    [Fact]
    public void On_unexpected_is_warn_or_reject_and_only_for_code_columns()
    {
        var spec = Parse(Spec(columns: UkllcColumns.Replace("\"rule\": \"keep\", \"labels\"", "\"rule\": \"keep\", \"onUnexpected\": \"warn\", \"labels\"", StringComparison.Ordinal)));
        Assert.Equal(UnexpectedCode.Warn, spec.Columns[2].OnUnexpected);

        Problem(Spec(columns: UkllcColumns.Replace("\"rule\": \"keep\", \"labels\"", "\"rule\": \"keep\", \"onUnexpected\": \"ignore\", \"labels\"", StringComparison.Ordinal)), "$.columns[2].onUnexpected");
        Problem(Spec(columns: UkllcColumns.Replace("\"format\": \"yyyy-MM-dd\",", "\"format\": \"yyyy-MM-dd\", \"onUnexpected\": \"warn\",", StringComparison.Ordinal)), "$.columns[1].onUnexpected");
    }

    [Fact]
    public void A_full_catalogue_block_is_read()
    {
        var spec = Parse(Spec(catalogue: """
            {
              "series": "UK LLC Managed", "keywords": ["a", "b"], "specificRestrictions": "None",
              "citation": { "author": "UK LLC", "publisher": "UK LLC (pub)" }, "publishingFrequency": "Quarterly",
              "temporalCoverageColumn": "d", "spatialCoverage": ["Westminster"],
              "published": [ { "measure": "Persons", "count": 2258, "date": "2025-10-21", "source": "NWL Data Catalogue" } ],
              "startDate": "2018-04-01", "endDate": "2023-03-31", "releaseDate": "2024-04-01"
            }
            """));

        var c = spec.Catalogue;
        Assert.Equal("UK LLC Managed", c.Series);
        Assert.Equal(["a", "b"], c.Keywords);
        Assert.Equal("None", c.SpecificRestrictions);
        Assert.Equal(new CatalogueCitation("UK LLC", "UK LLC (pub)"), c.Citation);
        Assert.Equal("Quarterly", c.PublishingFrequency);
        Assert.Equal("d", c.TemporalCoverageColumn);
        Assert.Equal(["Westminster"], c.SpatialCoverage);
        Assert.Equal([new PublishedCount("Persons", 2258, "2025-10-21", "NWL Data Catalogue")], c.Published);
        Assert.Equal(("2018-04-01", "2023-03-31", "2024-04-01"), (c.StartDate, c.EndDate, c.ReleaseDate));
    }

    [Theory]
    [InlineData("""{ "temporalCoverageColumn": "o" }""", "$.catalogue.temporalCoverageColumn")]
    [InlineData("""{ "temporalCoverageColumn": "nope" }""", "$.catalogue.temporalCoverageColumn")]
    [InlineData("""{ "startDate": "31/03/2023" }""", "$.catalogue.startDate")]
    [InlineData("""{ "releaseDate": "2023-02-30" }""", "$.catalogue.releaseDate")]
    [InlineData("""{ "startDate": "2023-03-31", "endDate": "2020-01-01" }""", "$.catalogue.endDate")]
    [InlineData("""{ "keywords": "a" }""", "$.catalogue.keywords")]
    [InlineData("""{ "spatialCoverage": ["", "x"] }""", "$.catalogue.spatialCoverage[0]")]
    [InlineData("""{ "published": [ { "measure": "Persons", "count": "2258", "date": "2025-10-21", "source": "s" } ] }""", "$.catalogue.published[0].count")]
    [InlineData("""{ "published": [ { "measure": "Persons", "count": 1, "date": "21 October 2025", "source": "s" } ] }""", "$.catalogue.published[0].date")]
    [InlineData("""{ "published": [ { "count": 1, "date": "2025-10-21", "source": "s" } ] }""", "$.catalogue.published[0].measure")]
    [InlineData("""{ "published": [ { "measure": "Persons", "count": 1, "date": "2025-10-21" } ] }""", "$.catalogue.published[0].source")]
    [InlineData("""{ "series": 3 }""", "$.catalogue.series")]
    [InlineData("\"x\"", "$.catalogue")]
    public void Catalogue_problems_are_reported_at_their_path(string catalogue, string path) => Problem(Spec(catalogue: catalogue), path);

    [Fact]
    public void The_temporal_coverage_column_may_be_generalised_but_not_excluded()
    {
        string columns = UkllcColumns.Replace("\"format\": \"yyyy-MM-dd\", \"rule\": \"keep\"", "\"format\": \"yyyy-MM-dd\", \"rule\": \"generalise\", \"generalise\": { \"to\": \"year\" }", StringComparison.Ordinal);
        Assert.Equal("d", Parse(Spec(columns: columns, catalogue: """{ "temporalCoverageColumn": "d" }""")).Catalogue.TemporalCoverageColumn);

        columns = UkllcColumns.Replace("\"format\": \"yyyy-MM-dd\", \"rule\": \"keep\"", "\"format\": \"yyyy-MM-dd\", \"rule\": \"exclude\"", StringComparison.Ordinal);
        Problem(Spec(columns: columns, catalogue: """{ "temporalCoverageColumn": "d" }"""), "$.catalogue.temporalCoverageColumn");
    }

    [Theory]
    [InlineData("nhse_lsoa11_dataset_mapping", DatasetKind.Participant, KeyScheme.UkllcTtpToken, PermissionChecks.Ukllc, "record_date")]
    [InlineData("nhse_hes_apc", DatasetKind.Participant, KeyScheme.UkllcTtpToken, PermissionChecks.Ukllc, "epistart")]
    [InlineData("london_sde_asc_cld", DatasetKind.Participant, KeyScheme.SdePatientKey, PermissionChecks.None, "care_package_start_date")]
    [InlineData("london_sde_cla", DatasetKind.Participant, KeyScheme.SdePatientKey, PermissionChecks.None, "activity_date")]
    [InlineData("imd2019_lsoa11", DatasetKind.Reference, KeyScheme.None, PermissionChecks.None, null)]
    public void Every_shipped_spec_loads_with_a_legal_basis(string datasetId, DatasetKind kind, KeyScheme scheme, PermissionChecks checks, string? temporal)
    {
        var spec = File2World.ShippedSpec(datasetId);

        Assert.Equal((kind, scheme, checks), (spec.Kind, spec.KeyScheme, spec.PermissionChecks));
        Assert.False(string.IsNullOrWhiteSpace(spec.LegalBasis));
        Assert.False(string.IsNullOrWhiteSpace(spec.Description));
        Assert.Equal(temporal, spec.Catalogue.TemporalCoverageColumn);
    }

    [Fact]
    public void The_shipped_lsoa11_spec_drops_rows_without_small_area_permission_and_warns_on_unexpected_origins()
    {
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");

        Assert.Equal(GeographyWhenMissing.DropRow, spec.GeographyWhenMissing);
        Assert.Equal(UnexpectedCode.Warn, spec.Columns.Single(c => c.Name == "origin").OnUnexpected);
        Assert.Equal("UK LLC Managed", spec.Catalogue.Series);
        Assert.Equal("None", spec.Catalogue.SpecificRestrictions);
        Assert.Equal("UK Longitudinal Linkage Collaboration", spec.Catalogue.Citation!.Author);
    }

    [Fact]
    public void The_shipped_london_sde_specs_carry_the_seed_facts_and_mark_assumed_columns()
    {
        var asc = File2World.ShippedSpec("london_sde_asc_cld");
        Assert.Equal("Quarterly", asc.Catalogue.PublishingFrequency);
        Assert.Equal("2023-03-31", asc.Catalogue.StartDate);
        Assert.Equal("2025-08-07", asc.Catalogue.ReleaseDate);
        Assert.Equal(["Hillingdon", "Kensington and Chelsea", "Westminster"], asc.Catalogue.SpatialCoverage);
        Assert.Equal([("Events", 145853L, "2025-12-10"), ("Persons", 23366L, "2025-12-10")], asc.Catalogue.Published.Select(p => (p.Measure, p.Count, p.Date)));

        var cla = File2World.ShippedSpec("london_sde_cla");
        Assert.Equal("Annual", cla.Catalogue.PublishingFrequency);
        Assert.Equal(("2018-04-01", "2023-03-31", "2024-04-01"), (cla.Catalogue.StartDate, cla.Catalogue.EndDate, cla.Catalogue.ReleaseDate));
        Assert.Equal(["Kensington and Chelsea", "Westminster", "Harrow"], cla.Catalogue.SpatialCoverage);
        Assert.Equal([("Persons", 2258L, "2025-10-21")], cla.Catalogue.Published.Select(p => (p.Measure, p.Count, p.Date)));
        Assert.All(cla.Columns.Where(c => c.Rule != ColumnRule.EncryptId), c => Assert.Contains("(assumed", c.Description, StringComparison.Ordinal));
    }

    [Fact]
    public void The_imd_spec_carries_deciles_only()
    {
        var spec = File2World.ShippedSpec("imd2019_lsoa11");

        Assert.Equal(["lsoa11cd_e", "imd_decile"], spec.Columns.Where(c => c.IsOutput).Select(c => c.OutputName));
        Assert.Equal((1L, 10L), (spec.Columns[1].Min!.Value, spec.Columns[1].Max!.Value));
        Assert.DoesNotContain(spec.Columns, c => c.Name.Contains("rank", StringComparison.OrdinalIgnoreCase) || c.Name.Contains("score", StringComparison.OrdinalIgnoreCase));
    }

    private static DatasetSpec Parse(string json) => DatasetSpecLoader.Parse(json, "gov.json");

    private static SpecProblem Problem(string json, string path)
    {
        var e = Assert.Throws<DatasetSpecException>(() => Parse(json));
        var problem = Assert.Single(e.Problems, p => p.JsonPath == path);
        Assert.False(string.IsNullOrWhiteSpace(problem.Fix));
        return problem;
    }

    private static string Spec(string extra = "", string? legalBasis = "\"Consent (test)\"", string keyColumn = "k", string columns = UkllcColumns, string permissions = UkllcPermissions, string? catalogue = null) => $$"""
        {
          "specVersion": 1, "datasetId": "gov_test", "title": "t", "description": "about the data", "owner": "o", "source": "s",
          {{extra}}
          {{(legalBasis is null ? "" : $"\"legalBasis\": {legalBasis},")}}
          "keyColumn": "{{keyColumn}}",
          {{permissions}},
          "columns": [ {{columns}} ]
          {{(catalogue is null ? "" : $", \"catalogue\": {catalogue}")}}
        }
        """;
}
