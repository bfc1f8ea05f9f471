using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Workflows;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.Functions.Catalogue;

/// <summary>Reviewers' endpoints of the disclosure review gate (decision 0605): the work list, a version's risk report, a decision.</summary>
[Zone(FunctionZone.Processor)]
public sealed class ReviewApi(ApiGate gate, AuditLog audit, DatasetSpecs specs, CurationCatalogue catalogue, DisclosureReview review, ILogger<ReviewApi> logger)
{

    /// <summary><c>GET /api/reviews</c>: versions awaiting review, across datasets.</summary>
    [Function("ListReviews")]
    [ApiDoc("Versions awaiting disclosure review", role: Roles.Reviewer, Description = "Committed versions whose disclosure-risk report flagged items, oldest first per dataset, with the approvals they have.")]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reviews")] HttpRequest request, CancellationToken cancellationToken)
    {
        var access = await gate.AuthorizeAsync(request, Roles.Reviewer, cancellationToken, ("reviews.list", "reviews"));
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        var pending = await catalogue.AwaitingReviewAsync(cancellationToken);
        await audit.WriteAsync(access.Caller, access.Role, "reviews.list", "reviews", "succeeded", StatusCodes.Status200OK, null, cancellationToken);
        return new OkObjectResult(new
        {
            count = pending.Count,
            versions = pending.Select(v => new
            {
                datasetId = v.DatasetId,
                version = v.Version,
                versionDate = v.VersionDate,
                observations = v.ObservationCount,
                approvals = DisclosureReview.Approvals(v.Reviews),
                riskUrl = $"/api/datasets/{v.DatasetId}/versions/{v.Version}/risk",
            }),
        });
    }

    /// <summary><c>GET /api/datasets/{id}/versions/{v}/risk</c>: the version's disclosure-risk report, its flagged items and the decisions so far.</summary>
    [Function("GetVersionRisk")]
    [ApiDoc("A version's disclosure-risk report", role: Roles.Reviewer, Description = "The automated disclosure-risk report of a committed version, each flagged item with the id a review refers to it by, its release state and every decision so far.", Problems = [404])]
    public async Task<IActionResult> Risk([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "datasets/{id}/versions/{version}/risk")] HttpRequest request, string id, string version, CancellationToken cancellationToken)
    {
        // Only a known dataset and a version number become an audit target: nothing typed into a URL lands in the log.
        bool wellFormed = int.TryParse(version, out int v) && v > 0 && specs.TryGet(id, out _);
        var access = await gate.AuthorizeAsync(request, Roles.Reviewer, cancellationToken, wellFormed ? ("datasets.risk.read", DisclosureReview.AuditTarget(id, v)) : null);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        if (!wellFormed || await catalogue.GetVersionAsync(id, v, cancellationToken) is not { } record)
        {
            return Problems.NotFound($"Dataset '{id}' has no committed version '{version}'. List versions awaiting review with GET /api/reviews.");
        }

        var report = await review.ReadReportAsync(record, cancellationToken);
        await audit.WriteAsync(access.Caller, access.Role, "datasets.risk.read", DisclosureReview.AuditTarget(id, v), "succeeded", StatusCodes.Status200OK, null, cancellationToken);
        return new OkObjectResult(new
        {
            datasetId = record.DatasetId,
            version = record.Version,
            versionDate = record.VersionDate,
            release = record.EffectiveRelease,
            releasedAt = record.ReleasedAt,
            observations = record.ObservationCount,
            flaggedItems = report is null ? [] : DisclosureReview.FlaggedItems(report),
            report,
            reviews = record.Reviews,
            suppressions = record.Suppressions,
        });
    }

    /// <summary><c>POST /api/datasets/{id}/versions/{v}/review</c>: approve or reject a version awaiting review.</summary>
    [Function("ReviewVersion")]
    [ApiDoc("Approve or reject a version awaiting review", role: Roles.Reviewer,
        Description = "Body: {\"decision\": \"approve\"|\"reject\", \"notes\": \"…\", \"acceptedItems\": [ids], \"suppressCells\": [small-cell ids]}. "
            + "An approval must accept or suppress every flagged item; a version is released after Review:RequiredApprovals (default 2) approvals by different reviewers, "
            + "neither of whom triggered the delivery; one rejection (with its reason in notes) withholds it. Audited.",
        Problems = [400, 404, 409])]
    public async Task<IActionResult> Review(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "datasets/{id}/versions/{version}/review")] HttpRequest request,
        string id,
        string version,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        bool wellFormed = int.TryParse(version, out int v) && v > 0 && specs.TryGet(id, out _);
        var access = await gate.AuthorizeAsync(request, Roles.Reviewer, cancellationToken, wellFormed ? ("datasets.review", DisclosureReview.AuditTarget(id, v)) : null);
        if (!access.Allowed)
        {
            return access.Denied!;
        }

        if (!wellFormed)
        {
            return Problems.NotFound($"Dataset '{id}' has no version '{version}'. List versions awaiting review with GET /api/reviews.");
        }

        var body = await JsonBody.ReadAsync<ReviewRequest>(request, cancellationToken);

        if (body is null)
        {
            var bad = new ReviewRefusal(StatusCodes.Status400BadRequest, "bad-body", "The body is not a review", "Send JSON: {\"decision\": \"approve\" or \"reject\", \"notes\": \"…\", \"acceptedItems\": [...], \"suppressCells\": [...]}.");
            await review.RefuseAsync(access.Caller, access.Role, DisclosureReview.AuditTarget(id, v), bad, cancellationToken);
            return Problems.Create(bad.Status, bad.Code, bad.Title, bad.Detail);
        }

        var (stored, refusal) = await review.DecideAsync(id, v, access.Caller, access.Role, body, cancellationToken);
        if (refusal is not null)
        {
            return Problems.Create(refusal.Status, refusal.Code, refusal.Title, refusal.Detail);
        }

        var outcome = DisclosureReview.OutcomeOf(stored!);
        if (outcome.Decided)
        {
            try
            {
                await WakeWaitingWorkflowAsync(new DurableWorkflowClient(durable), outcome, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The decision stands; a waiting workflow finds it on its next check.
                logger.LogWarning(e, "Could not wake the workflow waiting on {Dataset} v{Version}; it will find the decision on its next check", outcome.DatasetId, outcome.Version);
            }
        }

        return new OkObjectResult(new
        {
            datasetId = stored!.DatasetId,
            version = stored.Version,
            release = stored.EffectiveRelease,
            approvals = DisclosureReview.Approvals(stored.Reviews),
            reviews = stored.Reviews,
            suppressions = stored.Suppressions,
        });
    }

    /// <summary>
    /// Sends the outcome to the workflows waiting on this version: a release wait (<see cref="DatasetReleaseOrchestration"/>)
    /// and the dataset's running annual refreshes. The catalogue stays the truth: a workflow that misses the event finds
    /// the decision on its next check.
    /// </summary>
    private async Task WakeWaitingWorkflowAsync(IWorkflowClient workflows, ReleaseOutcome outcome, CancellationToken cancellationToken)
    {
        var waiting = new List<string>();
        string releaseWait = DatasetReleaseOrchestration.InstanceIdFor(outcome.DatasetId, outcome.Version);
        if (await workflows.GetAsync(releaseWait, cancellationToken) is { HasEnded: false })
        {
            waiting.Add(releaseWait);
        }

        string prefix = $"refresh-{outcome.DatasetId}-";
        waiting.AddRange((await workflows.RunningAsync(Workflows.Refresh.AnnualRefreshOrchestration.Name, prefix, cancellationToken)).Where(id => id.Length == prefix.Length + 4));
        foreach (string instanceId in waiting)
        {
            // No reason in the event: the wait reads the decision from the catalogue, so history holds no free text twice.
            await workflows.RaiseEventAsync(instanceId, DisclosureReview.ReviewedEvent, outcome with { Reason = null }, cancellationToken);
            logger.LogInformation("Raised {Event} on {Instance}: {Release}", DisclosureReview.ReviewedEvent, instanceId, outcome.Release);
        }
    }
}
