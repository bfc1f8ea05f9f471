using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Linkage.Azure.Identity;
using Linkage.Functions.Api;
using Linkage.Functions.Catalogue;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.FaultInjection;
using Linkage.Functions.Tests.Infrastructure;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Catalogue;

/// <summary>
/// The disclosure review gate (decision 0605) through the running app: a version with flagged risks is not current until
/// enough different reviewers, none of them its submitter, approve it; one rejection withholds it; a version with nothing
/// flagged is released at commit; every decision is audited; a workflow waiting on the version wakes on the decision.
/// </summary>
public sealed class DisclosureReviewTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private const string Dataset = File2Scenario.Dataset;
    private readonly File2Scenario _scenario = new(stack.Stack);

    public void Dispose() => _scenario.Dispose();

    [Fact]
    public async Task A_flagged_version_is_released_only_by_two_different_reviewers_neither_of_them_its_submitter()
    {
        var started = DateTimeOffset.UtcNow; // the audit log is not reset between this class's tests: count this test's entries
        await using var app = await ArrangeAsync("ServicesOnly");
        var (blob, etag) = await DeliverAsync(flagged: true, submittedBy: "sub-sam");
        var curated = await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        Assert.Equal(ReleaseState.AwaitingReview, curated.Version!.Release);
        Assert.Null((await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);
        Assert.Null(await catalogue.GetReleasedVersionAsync(Dataset, 1, CancellationToken.None)); // not provisionable

        using var http = app.CreateClient();
        string sam = Token(["Linkage.Reviewer"], "Sam Submitter", "sub-sam");
        string rita = Token(["Linkage.Reviewer"], "Rita Reviewer", "sub-rita");
        string raj = Token(["Linkage.Reviewer"], "Raj Reviewer", "sub-raj");
        var pending = await GetJsonAsync(http, "/api/reviews", rita);
        Assert.Contains(pending.GetProperty("versions").EnumerateArray(), v => v.GetProperty("datasetId").GetString() == Dataset && v.GetProperty("version").GetInt32() == 1);

        var risk = await GetJsonAsync(http, $"/api/datasets/{Dataset}/versions/1/risk", rita);
        Assert.Equal("AwaitingReview", risk.GetProperty("release").GetString());
        var items = risk.GetProperty("flaggedItems").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();
        Assert.Contains("rare-combinations", items);
        string cell = items.First(i => i.StartsWith("small-cell-", StringComparison.Ordinal));

        // The submitter may not review; an approval must address every flagged item; nobody approves twice.
        await AssertProblemAsync(await ReviewAsync(http, sam, "approve", items), HttpStatusCode.Forbidden, "reviewer-triggered-delivery");
        await AssertProblemAsync(await ReviewAsync(http, rita, "approve", items.Skip(1).ToList()), HttpStatusCode.BadRequest, "items-unaddressed");
        await AssertProblemAsync(await ReviewAsync(http, rita, "approve", [.. items, "small-cell-99999"]), HttpStatusCode.BadRequest, "unknown-item");
        var first = await ReviewAsync(http, rita, "approve", items.Where(i => i != cell).ToList(), suppress: [cell]);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("AwaitingReview", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("release").GetString());
        Assert.Null((await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion); // one approval is not enough
        await AssertProblemAsync(await ReviewAsync(http, rita, "reject", [], notes: "changed my mind"), HttpStatusCode.Conflict, "already-reviewed");
        var resent = await ReviewAsync(http, rita, "approve", items); // a retry after a lost answer: accepted, nothing added
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Equal(1, (await resent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvals").GetInt32());

        var second = await ReviewAsync(http, raj, "approve", items);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("Released", (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("release").GetString());
        Assert.Equal(1, (await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);
        var released = (await catalogue.GetReleasedVersionAsync(Dataset, 1, CancellationToken.None))!;
        Assert.Equal(cell, Assert.Single(released.Suppressions).Item); // what provisioning must suppress
        Assert.Equal(["sub-rita", "sub-raj"], released.Reviews.Select(r => r.Subject));
        await AssertProblemAsync(await ReviewAsync(http, Token(["Linkage.Reviewer"], "Late Reviewer", "sub-late"), "reject", [], notes: "too late"), HttpStatusCode.Conflict, "not-awaiting-review");

        // Every decision and refusal is in the audit log, with who and the outcome, and no notes or identifiers.
        var audit = await GetJsonAsync(http, $"/api/audit?target={Uri.EscapeDataString(DisclosureReview.AuditTarget(Dataset, 1))}", Token(["Linkage.Operator"], "Olive Operator", "sub-olive"));
        var entries = audit.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("at").GetDateTimeOffset() >= started).Select(e => (Name: e.GetProperty("name").GetString(), Outcome: e.GetProperty("outcome").GetString(), Status: e.GetProperty("status").GetInt32())).ToList();
        Assert.Contains(("Rita Reviewer", "approved", 200), entries);
        Assert.Contains(("Raj Reviewer", "approved", 200), entries);
        Assert.Contains(("Sam Submitter", "refused", 403), entries);
        Assert.Contains(("Late Reviewer", "refused", 409), entries);
        Assert.Equal(5, entries.Count(e => e.Outcome == "refused")); // 403, two 400s, two 409s
        Assert.Equal(2, entries.Count(e => e.Outcome == "approved")); // Rita's resend wrote no second entry
    }

    [Fact]
    public async Task With_one_approval_configured_one_reviewer_releases_and_one_rejection_withholds_with_its_reason()
    {
        await using var app = await ArrangeAsync("ServicesOnly", new Dictionary<string, string?> { ["Review:RequiredApprovals"] = "1" });
        var intake = app.Services.GetRequiredService<File2IntakeService>();
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        using var http = app.CreateClient();
        string rita = Token(["Linkage.Reviewer"], "Rita Reviewer", "sub-rita");

        var (blob, etag) = await DeliverAsync(flagged: true);
        Assert.Equal(1, (await intake.ProcessAsync(blob, etag, CancellationToken.None)).Version!.Version);
        var items = await FlaggedAsync(http, 1, rita);
        Assert.Equal(HttpStatusCode.OK, (await ReviewAsync(http, rita, "approve", items)).StatusCode);
        Assert.Equal(1, (await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);

        (blob, etag) = await DeliverAsync(flagged: true, rows: 2100);
        Assert.Equal(2, (await intake.ProcessAsync(blob, etag, CancellationToken.None)).Version!.Version);
        await AssertProblemAsync(await ReviewAsync(http, rita, "reject", [], version: 2), HttpStatusCode.BadRequest, "reason-required");
        var rejected = await ReviewAsync(http, rita, "reject", [], notes: "LSOA cells too small in 2020; ask NHS England for a coarser extract", version: 2);
        Assert.Equal("ReviewRejected", (await rejected.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("release").GetString());
        Assert.Equal(1, (await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion); // the rejected v2 never becomes current
        Assert.Null(await catalogue.GetReleasedVersionAsync(Dataset, 2, CancellationToken.None));
        Assert.Equal("LSOA cells too small in 2020; ask NHS England for a coarser extract", DisclosureReview.OutcomeOf((await catalogue.GetVersionAsync(Dataset, 2, CancellationToken.None))!).Reason);
    }

    [Fact]
    public async Task A_version_with_nothing_flagged_is_released_at_commit_and_that_is_audited_once()
    {
        var started = DateTimeOffset.UtcNow;
        await using var app = await ArrangeAsync("ServicesOnly");
        var intake = app.Services.GetRequiredService<File2IntakeService>();
        var (blob, etag) = await DeliverAsync(flagged: false);
        var result = await intake.ProcessAsync(blob, etag, CancellationToken.None);
        Assert.Equal(ReleaseState.Released, result.Version!.Release);
        Assert.Equal(ReviewVerdict.Automatic, Assert.Single(result.Version.Reviews).Verdict);
        Assert.Equal(1, (await app.Services.GetRequiredService<CurationCatalogue>().GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);

        // A re-run of the same delivery (a redelivered trigger) records nothing twice.
        await _scenario.DeliverAsync(File2Scenario.File2(lsoaCodes: 5)); // not the same ETag: a new delivery of the same name would be v2
        var again = await intake.ProcessAsync(blob, etag, CancellationToken.None);
        Assert.Equal("AlreadyCurated", again.Outcome);
        var audit = app.Services.GetRequiredService<AuditLog>();
        var entries = (await audit.ForTargetAsync(DisclosureReview.AuditTarget(Dataset, 1), 1000, CancellationToken.None)).Where(e => e.At >= started).ToList();
        var automatic = Assert.Single(entries);
        Assert.Equal(("released-automatically", "system:file2-intake"), (automatic.Outcome, automatic.Subject));
    }

    [Fact]
    public async Task A_workflow_waiting_on_a_version_wakes_on_the_decision_not_on_its_timer()
    {
        await using var app = await ArrangeAsync("Local", new Dictionary<string, string?> { ["Review:RequiredApprovals"] = "1" });
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        await DeliverAsync(flagged: true); // the trigger curates it
        await Wait.ForAsync(() => catalogue.GetVersionAsync(Dataset, 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        var durable = app.Services.GetRequiredService<DurableTaskClient>();
        string instance = DatasetReleaseOrchestration.InstanceIdFor(Dataset, 1);
        await durable.ScheduleNewOrchestrationInstanceAsync(nameof(DatasetReleaseOrchestration), new ReleaseWait(Dataset, 1, TimeSpan.FromHours(6)), new StartOrchestrationOptions(instance));
        await Wait.ForAsync(async () => await durable.GetInstanceAsync(instance) is { RuntimeStatus: OrchestrationRuntimeStatus.Running, SerializedCustomStatus: not null } i ? i : null, logs: app.Logs);

        using var http = app.CreateClient();
        string rita = Token(["Linkage.Reviewer"], "Rita Reviewer", "sub-rita");
        Assert.Equal(HttpStatusCode.OK, (await ReviewAsync(http, rita, "approve", await FlaggedAsync(http, 1, rita))).StatusCode);

        var done = await Wait.ForAsync(async () => await durable.GetInstanceAsync(instance, getInputsAndOutputs: true) is { RuntimeStatus: OrchestrationRuntimeStatus.Completed } i ? i : null, seconds: 60, logs: app.Logs);
        var outcome = done.ReadOutputAs<ReleaseOutcome>()!;
        Assert.Equal((Dataset, 1, ReleaseState.Released), (outcome.DatasetId, outcome.Version, outcome.Release));
        Assert.DoesNotContain("sub-rita", done.SerializedOutput, StringComparison.Ordinal); // workflow state carries no reviewer or person

        // A wait started after the decision ends at once.
        string late = instance + "-late";
        await durable.ScheduleNewOrchestrationInstanceAsync(nameof(DatasetReleaseOrchestration), new ReleaseWait(Dataset, 1, TimeSpan.FromHours(6)), new StartOrchestrationOptions(late));
        Assert.Equal(ReleaseState.Released, (await Wait.ForAsync(async () => await durable.GetInstanceAsync(late, getInputsAndOutputs: true) is { RuntimeStatus: OrchestrationRuntimeStatus.Completed } i ? i : null, logs: app.Logs)).ReadOutputAs<ReleaseOutcome>()!.Release);
    }

    [Fact]
    public async Task A_rejection_after_one_approval_withholds_and_notes_may_not_hold_an_identifier()
    {
        var started = DateTimeOffset.UtcNow;
        await using var app = await ArrangeAsync("ServicesOnly");
        var (blob, etag) = await DeliverAsync(flagged: true);
        await app.Services.GetRequiredService<File2IntakeService>().ProcessAsync(blob, etag, CancellationToken.None);
        using var http = app.CreateClient();
        string rita = Token(["Linkage.Reviewer"], "Rita Reviewer", "sub-rita");
        string raj = Token(["Linkage.Reviewer"], "Raj Reviewer", "sub-raj");
        var items = await FlaggedAsync(http, 1, rita);
        Assert.Equal(HttpStatusCode.OK, (await ReviewAsync(http, rita, "approve", items)).StatusCode);

        // Free text is checked for identifier shapes (NHS numbers in any spacing, postcodes): it is stored and returned.
        await AssertProblemAsync(await ReviewAsync(http, raj, "reject", [], notes: "row for 943 476 5919 looks odd"), HttpStatusCode.BadRequest, "notes-hold-identifier");
        await AssertProblemAsync(await ReviewAsync(http, raj, "reject", [], notes: "cells near SW1A 1AA are small"), HttpStatusCode.BadRequest, "notes-hold-identifier");
        var rejected = await ReviewAsync(http, raj, "reject", [], notes: "2031 cells are too small");
        Assert.Equal("ReviewRejected", (await rejected.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("release").GetString());
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        Assert.Null((await catalogue.GetDatasetAsync(Dataset, CancellationToken.None))!.CurrentVersion);
        Assert.Null(await catalogue.GetReleasedVersionAsync(Dataset, 1, CancellationToken.None));

        // A denial on a known version is audited; the reviewers' list and risk reads are audited too.
        Assert.Equal(HttpStatusCode.Forbidden, (await ReviewAsync(http, Token(["Linkage.Reader"], "Rhea Researcher", "sub-rhea"), "approve", items)).StatusCode);
        var audit = app.Services.GetRequiredService<AuditLog>();
        var entries = (await audit.ForTargetAsync(DisclosureReview.AuditTarget(Dataset, 1), 1000, CancellationToken.None)).Where(e => e.At >= started).ToList();
        Assert.Contains(entries, e => e is { Outcome: "denied", Status: 403, Name: "Rhea Researcher" });
        Assert.Contains(entries, e => e is { Action: "datasets.risk.read", Outcome: "succeeded", Name: "Rita Reviewer" });
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Get, "/api/reviews", Token(["Linkage.Reader"], "Rhea Researcher", "sub-rhea"))).StatusCode);
        await GetJsonAsync(http, "/api/reviews", raj);
        var listed = (await audit.ForTargetAsync("reviews", 1000, CancellationToken.None)).Where(e => e.At >= started).ToList();
        Assert.Contains(listed, e => e is { Action: "reviews.list", Outcome: "succeeded", Name: "Raj Reviewer" });
        Assert.Contains(listed, e => e is { Action: "reviews.list", Outcome: "denied", Status: 403, Name: "Rhea Researcher" });
        Assert.DoesNotContain(entries, e => e.Details.Values.Any(v => v.Contains("5919", StringComparison.Ordinal) || v.Contains("SW1A", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_wait_that_misses_the_event_finds_the_decision_on_its_next_check()
    {
        await using var app = await ArrangeAsync("Local");
        var catalogue = app.Services.GetRequiredService<CurationCatalogue>();
        await DeliverAsync(flagged: true);
        await Wait.ForAsync(() => catalogue.GetVersionAsync(Dataset, 1, CancellationToken.None), seconds: 120, logs: app.Logs);
        var durable = app.Services.GetRequiredService<DurableTaskClient>();
        string instance = DatasetReleaseOrchestration.InstanceIdFor(Dataset, 1);
        await durable.ScheduleNewOrchestrationInstanceAsync(nameof(DatasetReleaseOrchestration), new ReleaseWait(Dataset, 1, TimeSpan.FromSeconds(2)), new StartOrchestrationOptions(instance));
        await Wait.ForAsync(async () => await durable.GetInstanceAsync(instance) is { RuntimeStatus: OrchestrationRuntimeStatus.Running } i ? i : null, logs: app.Logs);
        await Task.Delay(TimeSpan.FromSeconds(5)); // at least one timer round: the wait continues as new and keeps waiting

        // The decision is recorded with no event raised (as if the endpoint had crashed after storing it).
        await catalogue.UpdateVersionAsync(Dataset, 1, v => v with { Release = ReleaseState.ReviewRejected, Reviews = [.. v.Reviews, new ReviewDecision { Verdict = ReviewVerdict.Reject, Subject = "sub-x", Name = "X", At = DateTimeOffset.UtcNow, Notes = "too small" }] }, CancellationToken.None);
        var done = await Wait.ForAsync(async () => await durable.GetInstanceAsync(instance, getInputsAndOutputs: true) is { RuntimeStatus: OrchestrationRuntimeStatus.Completed } i ? i : null, seconds: 60, logs: app.Logs);
        var outcome = done.ReadOutputAs<ReleaseOutcome>()!;
        Assert.Equal((ReleaseState.ReviewRejected, "too small"), (outcome.Release, outcome.Reason));
    }

    private async Task<FunctionAppFactory> ArrangeAsync(string mode, IDictionary<string, string?>? settings = null)
    {
        await _scenario.ResetAsync();
        var people = File2Scenario.People();
        await _scenario.SeedSnapshotAsync(people.Permitted, people.Withdrawn);
        var app = new FunctionAppFactory(stack.Stack, mode, settings: settings);
        _ = app.Services;
        return app;
    }

    private Task<(global::Azure.Storage.Blobs.BlobClient Blob, global::Azure.ETag ETag)> DeliverAsync(bool flagged, string? submittedBy = null, int rows = 2000) =>
        _scenario.DeliverAsync(
            File2Scenario.File2(rows: rows, lsoaCodes: flagged ? 400 : 5) + (flagged ? RareYear : ""),
            submittedBy is null ? null : new Dictionary<string, string> { [File2IntakeService.SubmittedByMetadata] = submittedBy });

    /// <summary>Three records in a year no other record has: a small cell of the origin × year marginal.</summary>
    private static string RareYear => string.Concat(File2Scenario.People().Permitted.Take(3).Select(t => $"{t},2031-05-05,E01000001,GDPPR,2021-01-01\n"));

    private string Token(string[] roles, string name, string subject) =>
        DevelopmentTokens.GetOrCreate(FunctionAppFactory.DevTokenFolder(stack.Stack)).Issue(roles, name, TimeSpan.FromMinutes(10), subject: subject);

    private static async Task<List<string>> FlaggedAsync(HttpClient http, int version, string token) =>
        (await GetJsonAsync(http, $"/api/datasets/{Dataset}/versions/{version}/risk", token)).GetProperty("flaggedItems").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();

    private static Task<HttpResponseMessage> ReviewAsync(HttpClient http, string token, string decision, IReadOnlyList<string> accepted, IReadOnlyList<string>? suppress = null, string? notes = null, int version = 1)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/datasets/{Dataset}/versions/{version}/review")
        {
            Content = JsonContent.Create(new { decision, notes, acceptedItems = accepted, suppressCells = suppress ?? [] }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Problems.TypeFor(code), JsonDocument.Parse(body).RootElement.GetProperty("type").GetString());
    }
}
