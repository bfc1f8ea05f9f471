using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.File2;
using Linkage.Functions.Api;
using Linkage.Functions.Processor;
using Linkage.Functions.Workflows;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Catalogue;

/// <summary>Settings of the disclosure review (section <c>Review</c>).</summary>
public sealed class ReviewOptions
{
    public const string SectionName = "Review";

    /// <summary>Different reviewers whose approval releases a version with flagged risks (seed 001: "manually review all flagged risks").</summary>
    public int RequiredApprovals { get; set; } = 2;
}

/// <summary>A reviewer's request, as posted to <c>POST /api/datasets/{id}/versions/{v}/review</c>.</summary>
public sealed record ReviewRequest(string? Decision, string? Notes, IReadOnlyList<string>? AcceptedItems, IReadOnlyList<string>? SuppressCells);

/// <summary>Why a review request was refused: a stable problem code, the HTTP status and what to do.</summary>
public sealed record ReviewRefusal(int Status, string Code, string Title, string Detail);

/// <summary>
/// The disclosure review gate (decision 0605): reads a version's flagged items, records reviewers' decisions on its
/// record under optimistic concurrency, releases it after enough different approvals (never by whoever triggered the
/// delivery) or withholds it on one rejection, then repairs the current version and wakes any workflow waiting on it.
/// </summary>
public sealed partial class DisclosureReview(BlobServiceClient blobs, CurationCatalogue catalogue, AuditLog audit, IOptions<ReviewOptions> options, TimeProvider time, ILogger<DisclosureReview> logger)
{
    /// <summary>The event a waiting workflow receives when a version's review ends (payload <see cref="ReleaseOutcome"/>).</summary>
    public const string ReviewedEvent = "DatasetVersionReviewed";

    private const int MaxNotes = 2000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>The audit target of a version: no identifier, just the dataset and version.</summary>
    public static string AuditTarget(string datasetId, int version) => $"dataset/{datasetId}/{CurationCatalogue.VersionId(version)}";

    /// <summary>The version's disclosure-risk report, as the curation wrote it beside the data.</summary>
    public async Task<DisclosureRiskReport?> ReadReportAsync(DatasetVersionDocument version, CancellationToken cancellationToken)
    {
        if (version.RiskReport is not { } path)
        {
            return null;
        }

        var parts = path.Split('/', 2);
        var blob = blobs.GetBlobContainerClient(parts[0]).GetBlobClient(parts[1]);
        var content = await blob.DownloadContentAsync(cancellationToken);
        return content.Value.Content.ToObjectFromJson<DisclosureRiskReport>(Json);
    }

    /// <summary>Every item of the report a reviewer must accept or have suppressed, each with a stable id.</summary>
    public static IReadOnlyList<FlaggedItem> FlaggedItems(DisclosureRiskReport report)
    {
        var items = new List<FlaggedItem>();
        for (int i = 0; i < report.SmallCells.Count; i++)
        {
            var cell = report.SmallCells[i];
            items.Add(new FlaggedItem($"small-cell-{i + 1}", "small-cell", $"{cell.Marginal}: {cell.Cell} has fewer than {report.Threshold} records"));
        }

        if (report.SmallCellsTruncated)
        {
            items.Add(new FlaggedItem("small-cells-truncated", "small-cells-truncated", $"More small cells exist than the {report.SmallCells.Count} listed."));
        }

        if (report.RareCombinations > 0)
        {
            items.Add(new FlaggedItem("rare-combinations", "rare-combinations", string.Create(CultureInfo.InvariantCulture,
                $"{report.RareCombinations} combinations of {string.Join(", ", report.QuasiIdentifiers)} are shared by fewer than {report.Threshold} records ({report.RecordsInRareCombinations} records in them).")));
        }

        if (!report.RiskTrackingComplete)
        {
            items.Add(new FlaggedItem("risk-tracking-incomplete", "risk-tracking-incomplete", "Too many distinct keys to track them all: some cells were not counted."));
        }

        foreach (var column in report.IdentifierLookingColumns)
        {
            items.Add(new FlaggedItem($"identifier-looking-{column.Column}", "identifier-looking-column", string.Create(CultureInfo.InvariantCulture,
                $"Column {column.Column}: {column.NhsNumberShaped} NHS-number-shaped and {column.PostcodeShaped} postcode-shaped values of {column.NonEmpty}.")));
        }

        return items;
    }

    /// <summary>
    /// Records one reviewer's decision. Returns the record as it stands afterwards, or the refusal (nothing changed). A
    /// refusal and every decision are audited.
    /// </summary>
    public async Task<(DatasetVersionDocument? Version, ReviewRefusal? Refusal)> DecideAsync(string datasetId, int version, ApiCaller caller, string role, ReviewRequest request, CancellationToken cancellationToken)
    {
        string target = AuditTarget(datasetId, version);
        var (record, refusal, verdict) = await CheckAsync(datasetId, version, caller, request, cancellationToken);
        if (refusal is not null)
        {
            await RefuseAsync(caller, role, target, refusal, cancellationToken);
            if (refusal.Code == "not-awaiting-review")
            {
                // A decision whose follow-up was cut short (a crash after it was stored) is finished by the next caller.
                await catalogue.RepairCurrentVersionAsync(datasetId, cancellationToken);
            }

            return (null, refusal);
        }

        int required = Math.Max(1, options.Value.RequiredApprovals);
        if (record!.Reviews.FirstOrDefault(r => r.Subject == caller.Subject && r.Verdict == verdict) is { } earlier)
        {
            // The same reviewer sending the same decision again (a retry after a lost answer): its follow-up is redone, nothing is added.
            await FollowUpAsync(record, earlier, caller, role, required, cancellationToken);
            return (record, null);
        }

        var report = await ReadReportAsync(record, cancellationToken);
        var cells = (report?.SmallCells ?? []).Select((c, i) => (Id: $"small-cell-{i + 1}", Cell: c)).ToDictionary(x => x.Id, x => x.Cell, StringComparer.Ordinal);
        var decision = new ReviewDecision
        {
            Verdict = verdict,
            Subject = caller.Subject,
            Name = caller.Name,
            At = time.GetUtcNow(),
            Notes = request.Notes?.Trim(),
            AcceptedItems = request.AcceptedItems ?? [],
            SuppressCells = request.SuppressCells ?? [],
        };
        ReviewRefusal? raced = null;
        var stored = await catalogue.UpdateVersionAsync(datasetId, version, v =>
        {
            // Re-checked on the stored record: another reviewer may have decided meanwhile.
            raced = StateRefusal(v, caller);
            if (raced is not null)
            {
                return null;
            }

            var reviews = v.Reviews.Append(decision).ToList();
            var release = verdict == ReviewVerdict.Reject ? ReleaseState.ReviewRejected : Approvals(reviews) >= required ? ReleaseState.Released : ReleaseState.AwaitingReview;
            var suppressions = release != ReleaseState.Released ? v.Suppressions : reviews
                .Where(r => r.Verdict == ReviewVerdict.Approve)
                .SelectMany(r => r.SuppressCells)
                .Distinct(StringComparer.Ordinal)
                .Where(cells.ContainsKey)
                .Select(id => new SuppressedCell(id, cells[id].Marginal, cells[id].Cell))
                .ToList();
            return v with { Reviews = reviews, Release = release, ReleasedAt = release == ReleaseState.Released ? decision.At : v.ReleasedAt, Suppressions = suppressions };
        }, cancellationToken);
        if (raced is not null || stored is null || !stored.Reviews.Any(r => r.Subject == decision.Subject && r.Verdict == decision.Verdict && r.At == decision.At))
        {
            raced ??= new ReviewRefusal(StatusCodes.Status409Conflict, "review-conflict", "The version changed", "Another decision was recorded at the same moment; read the risk answer again and resend yours if it still applies.");
            await RefuseAsync(caller, role, target, raced, cancellationToken);
            return (null, raced);
        }

        await FollowUpAsync(stored, decision, caller, role, required, cancellationToken);
        return (stored, null);
    }

    /// <summary>
    /// After a decision is stored: its audit entry (a fixed id, so a resend after a crash writes it once) and, when the
    /// review has ended, the current version. Both are idempotent, so a resend finishes what a crash cut short.
    /// </summary>
    private async Task FollowUpAsync(DatasetVersionDocument stored, ReviewDecision decision, ApiCaller caller, string role, int required, CancellationToken cancellationToken)
    {
        // Fixed by what the decision is about (this delivery's version, this reviewer, this verdict), never reused by another.
        string key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"{stored.DatasetId}\n{stored.Version}\n{stored.SourceBlob}\n{stored.SourceETag}\n{decision.Subject}\n{decision.Verdict}")))[..32];
        await audit.WriteOnceAsync($"review-{key}", caller, role, "datasets.review", AuditTarget(stored.DatasetId, stored.Version),
            decision.Verdict == ReviewVerdict.Approve ? "approved" : "rejected", StatusCodes.Status200OK, new Dictionary<string, string>
            {
                ["release"] = stored.EffectiveRelease.ToString(),
                ["approvals"] = $"{Approvals(stored.Reviews)}/{required}",
                ["acceptedItems"] = decision.AcceptedItems.Count.ToString(CultureInfo.InvariantCulture),
                ["suppressCells"] = decision.SuppressCells.Count.ToString(CultureInfo.InvariantCulture),
                ["observations"] = stored.ObservationCount.ToString(CultureInfo.InvariantCulture),
            }, cancellationToken);
        if (stored.EffectiveRelease != ReleaseState.AwaitingReview)
        {
            int? current = await catalogue.RepairCurrentVersionAsync(stored.DatasetId, cancellationToken);
            logger.LogInformation("{Dataset} v{Version} review ended: {Release} ({Approvals} approvals); current version {Current}", stored.DatasetId, stored.Version, stored.EffectiveRelease, Approvals(stored.Reviews), current);
        }
    }

    /// <summary>Audits a refused request (never its notes or items: only the problem code).</summary>
    public Task RefuseAsync(ApiCaller caller, string role, string target, ReviewRefusal refusal, CancellationToken cancellationToken) =>
        audit.WriteAsync(caller, role, "datasets.review", target, "refused", refusal.Status, new Dictionary<string, string> { ["problem"] = refusal.Code }, cancellationToken);

    /// <summary>Approvals by different reviewers.</summary>
    public static int Approvals(IEnumerable<ReviewDecision> reviews) =>
        reviews.Where(r => r.Verdict == ReviewVerdict.Approve).Select(r => r.Subject).Distinct(StringComparer.Ordinal).Count();

    /// <summary>Records the automatic release of a version whose report flagged nothing, once (a re-run writes the same audit entry id).</summary>
    public Task RecordAutomaticReleaseAsync(DatasetVersionDocument version, CancellationToken cancellationToken) =>
        version.EffectiveRelease == ReleaseState.Released && version.Reviews.Any(r => r.Verdict == ReviewVerdict.Automatic)
            ? audit.WriteOnceAsync("release-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{version.DatasetId}\n{version.Version}\n{version.SourceBlob}\n{version.SourceETag}")))[..32], SystemCaller, null, "datasets.release", AuditTarget(version.DatasetId, version.Version), "released-automatically", 0,
                new Dictionary<string, string> { ["observations"] = version.ObservationCount.ToString(CultureInfo.InvariantCulture), ["reason"] = "the disclosure-risk report flagged nothing" }, cancellationToken)
            : Task.CompletedTask;

    /// <summary>Who the File 2 intake acts as in the audit log.</summary>
    public static ApiCaller SystemCaller { get; } = new("system:file2-intake", "File 2 intake", new HashSet<string>());

    /// <summary>What a workflow waiting on the version learns.</summary>
    public static ReleaseOutcome OutcomeOf(DatasetVersionDocument version) => new(
        version.DatasetId,
        version.Version,
        version.EffectiveRelease,
        version.EffectiveRelease == ReleaseState.ReviewRejected ? version.Reviews.LastOrDefault(r => r.Verdict == ReviewVerdict.Reject)?.Notes : null);

    private async Task<(DatasetVersionDocument?, ReviewRefusal?, ReviewVerdict)> CheckAsync(string datasetId, int version, ApiCaller caller, ReviewRequest request, CancellationToken cancellationToken)
    {
        var verdict = request.Decision?.Trim().ToLowerInvariant() switch
        {
            "approve" => ReviewVerdict.Approve,
            "reject" => ReviewVerdict.Reject,
            _ => (ReviewVerdict?)null,
        };
        if (verdict is null)
        {
            return (null, new ReviewRefusal(400, "bad-decision", "Unknown decision", "decision must be \"approve\" or \"reject\"."), default);
        }

        if (request.Notes is { Length: > MaxNotes })
        {
            return (null, new ReviewRefusal(400, "notes-too-long", "Notes too long", $"Notes may hold at most {MaxNotes} characters."), default);
        }

        if (request.Notes is { } notes && IdentifierShapedText(notes))
        {
            return (null, new ReviewRefusal(400, "notes-hold-identifier", "The notes look like they hold an identifier",
                "Notes may not contain anything shaped like an NHS number or a postcode; describe the problem without it."), default);
        }

        if (verdict == ReviewVerdict.Reject && string.IsNullOrWhiteSpace(request.Notes))
        {
            return (null, new ReviewRefusal(400, "reason-required", "A rejection needs its reason", "Say in notes why the version may not be released; the data owner and the refresh report will read it."), default);
        }

        var record = await catalogue.GetVersionAsync(datasetId, version, cancellationToken);
        if (record is null)
        {
            return (null, new ReviewRefusal(404, "not-found", "Not found", $"Dataset {datasetId} has no committed version {version}. List versions awaiting review with GET /api/reviews."), default);
        }

        if (record.Reviews.Any(r => r.Subject == caller.Subject && r.Verdict == verdict))
        {
            return (record, null, verdict.Value); // a resend: DecideAsync redoes its follow-up only
        }

        if (StateRefusal(record, caller) is { } refusal)
        {
            return (null, refusal, default);
        }

        var report = await ReadReportAsync(record, cancellationToken);
        var items = report is null ? [] : FlaggedItems(report);
        var ids = items.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var accepted = request.AcceptedItems ?? [];
        var suppress = request.SuppressCells ?? [];
        var unknown = accepted.Concat(suppress).Where(i => !ids.Contains(i)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            return (null, new ReviewRefusal(400, "unknown-item", "Unknown flagged item", $"{string.Join(", ", unknown.Take(10))} {(unknown.Count == 1 ? "is" : "are")} not flagged items of this version. Use the ids of GET .../risk."), default);
        }

        if (suppress.FirstOrDefault(i => !i.StartsWith("small-cell-", StringComparison.Ordinal) || i == "small-cells-truncated") is { } notCell)
        {
            return (null, new ReviewRefusal(400, "not-a-cell", "Only small cells can be suppressed", $"{notCell} is not a small cell; accept it, or reject the version."), default);
        }

        if (accepted.Intersect(suppress, StringComparer.Ordinal).FirstOrDefault() is { } both)
        {
            return (null, new ReviewRefusal(400, "accepted-and-suppressed", "An item is both accepted and suppressed", $"{both} is in acceptedItems and suppressCells; choose one."), default);
        }

        var unaddressed = ids.Except(accepted).Except(suppress).Order(StringComparer.Ordinal).ToList();
        if (verdict == ReviewVerdict.Approve && unaddressed.Count > 0)
        {
            return (null, new ReviewRefusal(400, "items-unaddressed", "Every flagged item needs a decision",
                $"An approval must accept or suppress each flagged item; {unaddressed.Count} {(unaddressed.Count == 1 ? "is" : "are")} not addressed (e.g. {string.Join(", ", unaddressed.Take(5))}). Or reject the version."), default);
        }

        return (record, null, verdict.Value);
    }

    /// <summary>Whether free text holds something shaped like an NHS number (10 digits, or 3-3-4) or a full postcode.</summary>
    /// <summary>True when free text holds anything shaped like an NHS number or a postcode (shared by every endpoint that stores operators' words).</summary>
    internal static bool IdentifierShapedText(string text)
    {
        var digits = new char[text.Length]; // notes are at most MaxNotes characters
        foreach (var match in DigitRun().EnumerateMatches(text))
        {
            var run = text.AsSpan(match.Index, match.Length);
            int n = 0;
            foreach (char c in run)
            {
                if (char.IsAsciiDigit(c))
                {
                    digits[n++] = c;
                }
            }

            for (int i = 0; i + 10 <= n; i++)
            {
                if (Linkage.File2.IdentifierShape.LooksLikeNhsNumber(digits.AsSpan(i, 10)))
                {
                    return true;
                }
            }
        }

        foreach (var match in PostcodeCandidate().EnumerateMatches(text))
        {
            if (Linkage.File2.IdentifierShape.LooksLikePostcode(text.AsSpan(match.Index, match.Length)))
            {
                return true;
            }
        }

        return false;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\d[\d \-]{8,}\d")]
    private static partial System.Text.RegularExpressions.Regex DigitRun();

    [System.Text.RegularExpressions.GeneratedRegex(@"\b[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}\b")]
    private static partial System.Text.RegularExpressions.Regex PostcodeCandidate();

    private static ReviewRefusal? StateRefusal(DatasetVersionDocument record, ApiCaller caller)
    {
        if (record.EffectiveRelease != ReleaseState.AwaitingReview)
        {
            return new ReviewRefusal(409, "not-awaiting-review", "The version is not awaiting review",
                $"{record.DatasetId} v{record.Version} is {record.EffectiveRelease}; its review has ended.");
        }

        if (record.TriggeredBy.Contains(caller.Subject, StringComparer.Ordinal))
        {
            return new ReviewRefusal(403, "reviewer-triggered-delivery", "You triggered this delivery",
                "Whoever submitted or re-drove a delivery may not review the version it made; ask another reviewer.");
        }

        if (record.Reviews.Any(r => r.Subject == caller.Subject && r.Verdict != ReviewVerdict.Automatic) )
        {
            return new ReviewRefusal(409, "already-reviewed", "You already reviewed this version",
                "An approval needs different reviewers; ask another reviewer.");
        }

        return null;
    }
}

/// <summary>How a version's review ended (or that it has not): the payload of <see cref="DisclosureReview.ReviewedEvent"/>.</summary>
public sealed record ReleaseOutcome(string DatasetId, int Version, ReleaseState Release, string? Reason)
{
    public bool Decided => Release != ReleaseState.AwaitingReview;
}
