using Linkage.File2;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Catalogue;

/// <summary>
/// The catalogue researchers and data managers read (seed 000's dataset page): every dataset with a spec, its published
/// facts, and what its released versions computed. Read only; versions awaiting review are not in it.
/// </summary>
[Zone(FunctionZone.Processor)]
public sealed class CatalogueApi(ApiGate gate, AuditLog audit, DatasetSpecs specs, CurationCatalogue catalogue, IOptions<CatalogueOptions> options)
{
    /// <summary><c>GET /api/datasets</c>.</summary>
    [Function("ListDatasets")]
    [ApiDoc("List catalogued datasets", role: Roles.Reader, Description = "Every dataset the TRE curates, with its current released version, participants, variables and observations.")]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "datasets")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Reader, cancellationToken, ("catalogue.list", "catalogue"));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var list = new List<object>();
        foreach (var spec in specs.All.OrderBy(s => s.DatasetId, StringComparer.Ordinal))
        {
            var released = await catalogue.ReleasedVersionsAsync(spec.DatasetId, cancellationToken);
            var current = released.Count > 0 ? released[^1] : null;
            list.Add(new
            {
                id = spec.DatasetId,
                nameInTre = options.Value.TreNamePrefix + spec.DatasetId,
                title = spec.Title,
                kind = CatalogueViews.KindName(spec.Kind),
                series = spec.Catalogue.Series,
                owner = spec.Owner,
                currentVersion = current?.Version,
                versionDate = current?.VersionDate,
                participantCount = CatalogueViews.Mask(current?.ParticipantCount),
                numberOfVariables = current?.VariableCount ?? spec.Columns.Count(c => c.IsOutput),
                numberOfObservations = current?.ObservationCount,
                url = $"/api/datasets/{spec.DatasetId}",
            });
        }

        await ReadAsync(access, "catalogue.list", "catalogue", cancellationToken);
        return new OkObjectResult(new { count = list.Count, datasets = list });
    }

    /// <summary><c>GET /api/datasets/{id}</c>: the dataset page.</summary>
    [Function("GetDataset")]
    [ApiDoc("Read a dataset's catalogue entry", role: Roles.Reader,
        Description = "Seed 000's dataset page: name in the TRE, citation (APA, with the DOI where one is configured), series, owner, legal basis, temporal coverage, keywords, participant count, "
            + "numbers of variables and observations, specific restrictions, variables with descriptions, the publisher's own facts, and the version history.",
        Problems = [404])]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "datasets/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Reader, cancellationToken, specs.TryGet(id, out _) ? ("catalogue.read", Target(id)) : null);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        if (!specs.TryGet(id, out var spec))
        {
            return UnknownDataset(id);
        }

        var released = await catalogue.ReleasedVersionsAsync(id, cancellationToken);
        var current = released.Count > 0 ? released[^1] : null;
        var facts = spec.Catalogue;
        await ReadAsync(access, "catalogue.read", Target(id), cancellationToken);
        return new OkObjectResult(new
        {
            id = spec.DatasetId,
            nameInTre = options.Value.TreNamePrefix + spec.DatasetId,
            title = spec.Title,
            kind = CatalogueViews.KindName(spec.Kind),
            description = spec.Description,
            citation = CatalogueViews.CitationOf(spec, current, options.Value),
            series = facts.Series,
            owner = spec.Owner,
            source = spec.Source,
            legalBasis = spec.LegalBasis,
            temporalCoverage = current?.TemporalCoverage,
            keywords = facts.Keywords,
            participantCount = CatalogueViews.Mask(current?.ParticipantCount),
            numberOfVariables = current?.VariableCount ?? spec.Columns.Count(c => c.IsOutput),
            numberOfObservations = current?.ObservationCount,
            specificRestrictions = facts.SpecificRestrictions,
            currentVersion = current?.Version,
            variables = (current?.Variables.Select(v => new { name = v.Name, description = v.Description })
                ?? spec.Columns.Where(c => c.IsOutput).Select(c => new { name = c.OutputName, description = c.Description })).ToList(),
            published = new
            {
                facts.PublishingFrequency,
                facts.SpatialCoverage,
                facts.StartDate,
                facts.EndDate,
                facts.ReleaseDate,
                observations = facts.Published,
            },
            versionHistory = CatalogueViews.History(released, options.Value),
        });
    }

    /// <summary><c>GET /api/datasets/{id}/versions</c>: the version-history table.</summary>
    [Function("ListDatasetVersions")]
    [ApiDoc("A dataset's version history", role: Roles.Reader, Description = "Released versions, oldest first: version, date, variables, observations, participants, temporal coverage, DOI (where configured) and the change log against the previous version.", Problems = [404])]
    public async Task<IActionResult> Versions([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "datasets/{id}/versions")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Reader, cancellationToken, specs.TryGet(id, out _) ? ("catalogue.versions", Target(id)) : null);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        if (!specs.TryGet(id, out _))
        {
            return UnknownDataset(id);
        }

        var history = CatalogueViews.History(await catalogue.ReleasedVersionsAsync(id, cancellationToken), options.Value);
        await ReadAsync(access, "catalogue.versions", Target(id), cancellationToken);
        return new OkObjectResult(new { datasetId = id, count = history.Count, versions = history });
    }

    /// <summary><c>GET /api/datasets/{id}/versions/{v}/variables</c>.</summary>
    [Function("ListVersionVariables")]
    [ApiDoc("A released version's variables", role: Roles.Reader, Description = "Names, descriptions, types, curation rules and value labels of a released version's variables.", Problems = [404])]
    public async Task<IActionResult> Variables([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "datasets/{id}/versions/{version}/variables")] HttpRequest request, string id, string version, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Reader, cancellationToken, specs.TryGet(id, out _) ? ("catalogue.variables", Target(id)) : null);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        if (!int.TryParse(version, out int v) || await catalogue.GetReleasedVersionAsync(id, v, cancellationToken) is not { } record)
        {
            return Problems.NotFound($"Dataset '{id}' has no released version '{version}'. List them with GET /api/datasets/{id}/versions.");
        }

        await ReadAsync(access, "catalogue.variables", Target(id), cancellationToken, v);
        return new OkObjectResult(new { datasetId = id, version = v, count = record.Variables.Count, variables = CatalogueViews.Variables(record) });
    }

    /// <summary>The audit target of a dataset's catalogue entry (its id is not an identifier: specs name datasets).</summary>
    private static string Target(string id) => $"dataset/{id}";

    /// <summary>Reads are audited too: who looked at which entry, when.</summary>
    private Task ReadAsync(ApiAccess access, string action, string target, CancellationToken cancellationToken, int? version = null) =>
        audit.WriteAsync(access.Caller, access.Role, action, target, "succeeded", StatusCodes.Status200OK,
            version is { } v ? new Dictionary<string, string> { ["version"] = v.ToString(System.Globalization.CultureInfo.InvariantCulture) } : null, cancellationToken);

    private IActionResult UnknownDataset(string id) =>
        Problems.NotFound($"No dataset has the id '{id}'. List them with GET /api/datasets ({string.Join(", ", specs.All.Select(s => s.DatasetId).Order(StringComparer.Ordinal))}).");
}
