using System.Globalization;
using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Linkage.Functions.Workflows;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Provisioning;

/// <summary>
/// Project admins' endpoints (role <c>Linkage.ProjectAdmin</c>): projects, their approved studies and datasets, their
/// files, and ending them. Answers carry names, codes and counts only: never a token or an identifier. Every call,
/// reads included, is audited under <c>project/&lt;id&gt;</c>.
/// </summary>
[Zone(FunctionZone.Provisioning)]
public sealed class ProjectsApi(ApiGate gate, AuditLog audit, ProjectStore store, DatasetSpecs specs, ProjectEnding ending, IOptions<ProvisioningOptions> options, TimeProvider time)
{

    /// <summary><c>POST /api/projects</c>.</summary>
    [Function("CreateProject")]
    [ApiDoc("Create a project", role: Roles.ProjectAdmin,
        Description = "Body: {\"id\": \"LLC_0001\", \"title\": \"…\", \"studies\": [\"ALSPAC\"], \"datasets\": [\"nhse_hes_apc\"], \"endDate\": \"2027-12-31\"}. The LSOA11 mappings dataset is always added (seed 000). Audited.",
        SuccessStatus = 201, Problems = [400, 409])]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "projects")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.ProjectAdmin, cancellationToken, ("projects.create", "projects"));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var body = await JsonBody.ReadAsync<CreateProjectRequest>(request, cancellationToken);
        string? problem = body is null ? "Send JSON: {\"id\", \"title\", \"studies\", \"datasets\", \"endDate\"}."
            : ProjectRequestRules.CheckId(body.Id) ?? ProjectRequestRules.CheckTitle(body.Title) ?? ProjectRequestRules.CheckStudies(body.Studies)
              ?? ProjectRequestRules.CheckDatasets(body.Datasets, specs) ?? ProjectRequestRules.CheckEndDate(body.EndDate, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        if (problem is not null)
        {
            await audit.WriteAsync(access.Caller, access.Role, "projects.create", "projects", "refused", StatusCodes.Status400BadRequest, null, cancellationToken);
            return Problems.BadRequest("bad-project", "The project is not valid", problem);
        }

        var project = new ProjectDocument
        {
            ProjectId = body!.Id!,
            Title = body.Title!.Trim(),
            Studies = body.Studies!.Distinct(StringComparer.Ordinal).ToList(),
            Datasets = ProjectRequestRules.WithAlwaysProvisioned(body.Datasets!, options.Value),
            EndDate = body.EndDate!.Value,
            CreatedAt = time.GetUtcNow(),
            CreatedBy = access.Caller.Subject,
        };
        string target = ProjectEnding.Target(project.ProjectId);
        if (!await store.CreateAsync(project, cancellationToken))
        {
            await audit.WriteAsync(access.Caller, access.Role, "projects.create", target, "refused", StatusCodes.Status409Conflict, null, cancellationToken);
            return Problems.Conflict("project-exists", "The project exists", $"A project {project.ProjectId} exists already; read it with GET /api/projects/{project.ProjectId}.");
        }

        await audit.WriteAsync(access.Caller, access.Role, "projects.create", target, "succeeded", StatusCodes.Status201Created, Details(project), cancellationToken);
        return new CreatedResult($"/api/projects/{project.ProjectId}", View(project));
    }

    /// <summary><c>GET /api/projects</c>.</summary>
    [Function("ListProjects")]
    [ApiDoc("List projects", role: Roles.ProjectAdmin, Description = "Every project with its state, studies, datasets and end date.")]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "projects")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.ProjectAdmin, cancellationToken, ("projects.list", "projects"));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var projects = await store.ListAsync(cancellationToken);
        await audit.WriteAsync(access.Caller, access.Role, "projects.list", "projects", "succeeded", StatusCodes.Status200OK, null, cancellationToken);
        return new OkObjectResult(new { count = projects.Count, projects = projects.Select(View) });
    }

    /// <summary><c>GET /api/projects/{id}</c>.</summary>
    [Function("GetProject")]
    [ApiDoc("Read a project", role: Roles.ProjectAdmin, Description = "A project's state, studies, datasets, end date and cohort size once frozen.", Problems = [404])]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "projects/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (access, project, refusal) = await OpenAsync(request, id, "projects.read", cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        await audit.WriteAsync(access!.Caller, access.Role, "projects.read", ProjectEnding.Target(id), "succeeded", StatusCodes.Status200OK, null, cancellationToken);
        return new OkObjectResult(View(project!));
    }

    /// <summary><c>PUT /api/projects/{id}/studies</c>.</summary>
    [Function("SetProjectStudies")]
    [ApiDoc("Set a project's approved studies", role: Roles.ProjectAdmin, Description = "Body: {\"items\": [\"ALSPAC\", \"UKHLS\"]}. Refused once the cohort is frozen (first provisioning, decision 0701) or the project has ended. Audited.", Problems = [400, 404, 409])]
    public Task<IActionResult> SetStudies([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "projects/{id}/studies")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        SetListAsync(request, id, "projects.studies", ProjectRequestRules.CheckStudies, (p, items) => p.CohortFrozenAt is null ? p with { Studies = items } : null,
            p => p.CohortFrozenAt is not null ? Problems.Conflict("cohort-frozen", "The cohort is frozen", $"Project {id}'s cohort was frozen at its first provisioning ({p.CohortFrozenAt:yyyy-MM-dd}); its studies cannot change. Create a new project for another cohort.") : null,
            cancellationToken);

    /// <summary><c>PUT /api/projects/{id}/datasets</c>.</summary>
    [Function("SetProjectDatasets")]
    [ApiDoc("Set a project's approved datasets", role: Roles.ProjectAdmin, Description = "Body: {\"items\": [\"nhse_hes_apc\"]}. The LSOA11 mappings dataset stays. Refused once the project has ended. Audited.", Problems = [400, 404, 409])]
    public Task<IActionResult> SetDatasets([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "projects/{id}/datasets")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        SetListAsync(request, id, "projects.datasets", items => ProjectRequestRules.CheckDatasets(items, specs), (p, items) => p with { Datasets = ProjectRequestRules.WithAlwaysProvisioned(items, options.Value) }, _ => null, cancellationToken);

    /// <summary><c>GET /api/projects/{id}/files</c>.</summary>
    [Function("ListProjectFiles")]
    [ApiDoc("A project's files", role: Roles.ProjectAdmin, Description = "File name, dataset, version, rows, participants, created, key versions, and the cells suppressed in it (decision 0702; row counts under suppressedBelow shown as null): never a token or an identifier.", Problems = [404])]
    public async Task<IActionResult> Files([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "projects/{id}/files")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (access, project, refusal) = await OpenAsync(request, id, "projects.files", cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var files = await store.FilesAsync(id, cancellationToken);
        await audit.WriteAsync(access!.Caller, access.Role, "projects.files", ProjectEnding.Target(id), "succeeded", StatusCodes.Status200OK, null, cancellationToken);
        return new OkObjectResult(new
        {
            projectId = id,
            state = project!.State,
            container = ProjectStorage.Container(id),
            count = files.Count,
            files = files.Select(f => new
            {
                name = f.Name, datasetId = f.DatasetId, version = f.Version, versionDate = f.VersionDate, rows = f.Rows, rowsRetained = f.RowsRetained,
                participants = f.Participants, created = f.CreatedAt, idKeyVersion = f.IdKeyVersion, geographyKeyVersion = f.GeographyKeyVersion, sha256 = f.Sha256,
                suppressedCells = f.Suppressions.Select(c => new { item = c.Item, marginal = c.Marginal, cell = c.Cell, rows = c.Rows }),
                rowsSuppressed = f.RowsSuppressed,
                suppressedBelow = SmallCounts.Threshold,
            }),
        });
    }

    /// <summary><c>POST /api/projects/{id}/provision</c>: 202 with the status URL of the provisioning workflow.</summary>
    [Function("ProvisionProject")]
    [ApiDoc("Provision a project", role: Roles.ProjectAdmin,
        Description = "Freezes the cohort (first time), then writes each approved dataset's latest released version into the project's container under the project's keys (decision 0701). Answers 202 with the workflow's status URL in Location (progress: datasets and rows done of total). Audited.",
        SuccessStatus = 202, Problems = [404, 409])]
    public async Task<IActionResult> Provision(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "projects/{id}/provision")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var (access, project, refusal) = await OpenAsync(request, id, "projects.provision", cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        string target = ProjectEnding.Target(id);
        if (project!.State == ProjectState.Ended)
        {
            await audit.WriteAsync(access!.Caller, access.Role, "projects.provision", target, "refused", StatusCodes.Status409Conflict, null, cancellationToken);
            return Problems.Conflict("project-ended", "The project has ended", $"Project {id} ended on {project.EndedAt:yyyy-MM-dd}; nothing is provisioned to it.");
        }

        var counted = await store.UpdateAsync(id, p => p with { ProvisionRuns = p.ProvisionRuns + 1 }, cancellationToken);
        string instanceId = $"provision-{id}-{counted!.ProvisionRuns}";
        await new DurableWorkflowClient(durable).StartIfNewAsync(nameof(ProvisionProjectOrchestration), instanceId, new ProvisionRequest(id, counted.Datasets), cancellationToken);
        await audit.WriteAsync(access!.Caller, access.Role, "projects.provision", target, "started", StatusCodes.Status202Accepted, new Dictionary<string, string>
        {
            ["instanceId"] = instanceId,
            ["datasets"] = string.Join(",", counted.Datasets),
        }, cancellationToken);
        string location = $"/api/workflows/{instanceId}";
        return new AcceptedResult(location, new { id, instanceId, statusUrl = location });
    }

    /// <summary><c>POST /api/projects/{id}/end</c>.</summary>
    [Function("EndProject")]
    [ApiDoc("End a project", role: Roles.ProjectAdmin,
        Description = "Revokes access (state Ended, the project's container closed), destroys its id and geography keys (crypto-shredding) and deletes its files after Provisioning:RetainDays (at once when 0). Idempotent; audited.",
        Problems = [404])]
    public async Task<IActionResult> End([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "projects/{id}/end")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (access, project, refusal) = await OpenAsync(request, id, "projects.end", cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var ended = await ending.EndAsync(project!, access!.Caller, access.Role, cancellationToken);
        return new OkObjectResult(View(ended));
    }

    private async Task<IActionResult> SetListAsync(
        HttpRequest request, string id, string action, Func<IReadOnlyList<string>?, string?> check, Func<ProjectDocument, IReadOnlyList<string>, ProjectDocument?> change,
        Func<ProjectDocument, IActionResult?> refuse, CancellationToken cancellationToken)
    {
        var (access, project, refusal) = await OpenAsync(request, id, action, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        string target = ProjectEnding.Target(id);
        var items = (await JsonBody.ReadAsync<ListRequest>(request, cancellationToken))?.Items;
        IActionResult? problem = check(items) is { } text ? Problems.BadRequest("bad-list", "The list is not valid", text)
            : project!.State == ProjectState.Ended ? Problems.Conflict("project-ended", "The project has ended", $"Project {id} ended on {project.EndedAt:yyyy-MM-dd}; nothing about it changes any more.")
            : refuse(project);
        if (problem is not null)
        {
            await audit.WriteAsync(access!.Caller, access.Role, action, target, "refused", ((ObjectResult)problem).StatusCode ?? 400, null, cancellationToken);
            return problem;
        }

        var list = items!.Distinct(StringComparer.Ordinal).ToList();
        var stored = await store.UpdateAsync(id, p => p.State == ProjectState.Active ? change(p, list) : null, cancellationToken);
        await audit.WriteAsync(access!.Caller, access.Role, action, target, "succeeded", StatusCodes.Status200OK, stored is null ? null : Details(stored), cancellationToken);
        return new OkObjectResult(View(stored!));
    }

    /// <summary>The gate, then the project: 404 for an id of the wrong shape (not audited: nothing typed into a URL reaches the log) or unknown.</summary>
    private async Task<(ApiAccess? Access, ProjectDocument? Project, IActionResult? Refusal)> OpenAsync(HttpRequest request, string id, string action, CancellationToken cancellationToken)
    {
        bool wellFormed = ProjectRequestRules.IsProjectId(id);
        var access = await gate.AuthorizeAsync(request, Roles.ProjectAdmin, cancellationToken, wellFormed ? (action, ProjectEnding.Target(id)) : null);
        if (!access.Allowed)
        {
            return (access, null, access.Denied);
        }

        var project = wellFormed ? await store.GetAsync(id, cancellationToken) : null;
        return project is null
            ? (access, null, Problems.NotFound($"No project has the id '{id}'. List them with GET /api/projects."))
            : (access, project, null);
    }

    private static object View(ProjectDocument p) => new
    {
        id = p.ProjectId, title = p.Title, state = p.State, studies = p.Studies, datasets = p.Datasets, endDate = p.EndDate,
        createdAt = p.CreatedAt, cohortFrozenAt = p.CohortFrozenAt, cohortSize = p.CohortSize, endedAt = p.EndedAt,
        filesDeleteAfter = p.DeleteFilesAfter, filesDeleted = p.FilesDeleted,
    };

    private static Dictionary<string, string> Details(ProjectDocument p) => new()
    {
        ["studies"] = string.Join(",", p.Studies),
        ["datasets"] = string.Join(",", p.Datasets),
        ["endDate"] = p.EndDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };
}
