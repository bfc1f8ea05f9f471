using System.Text.Json.Serialization;

namespace Linkage.Functions.Workflows.Quarterly;

/// <summary>
/// A quarter's opt-out cycle, fixed when it starts (so every replay decides the same): the quarter, its window, the
/// deadline for File 1s, the active studies, the cadences, and per study the newest File 1 version an earlier quarter
/// already sent NHS England (a File 1 counts for this quarter only when newer, or when it corrects that version: see
/// <see cref="DeliveredRevisions"/>). Study codes only: no identifier, no STUDY_ID.
/// </summary>
public sealed record QuarterRequest(
    int Year,
    int Quarter,
    DateTime OpensAt,
    DateTime Deadline,
    IReadOnlyList<string> Studies,
    TimeSpan RemindEvery,
    TimeSpan RecheckEvery,
    IReadOnlyDictionary<string, int> Delivered)
{
    public string Label => LabelOf(Year, Quarter);

    /// <summary>Per study, the revision of the <see cref="Delivered"/> version that was sent; a corrected re-send of that version is a newer revision (decision 0801).</summary>
    public IReadOnlyDictionary<string, int> DeliveredRevisions { get; init; } = new Dictionary<string, int>();

    public static string LabelOf(int year, int quarter) => $"{year:D4}-Q{quarter}";
}

/// <summary>An operator closed a study's wait for this quarter (<c>POST /api/workflows/{id}/skip-study</c>).</summary>
public sealed record SkipStudy(string Study, string By, string? Reason);

/// <summary>Where the wait for File 1s stands, carried from one episode to the next (continue-as-new).</summary>
public sealed record QuarterWaitState(int RemindersSent, DateTime NextReminderAt);

/// <summary>The orchestration's input: the request and its wait so far.</summary>
public sealed record QuarterRun(QuarterRequest Request, QuarterWaitState Wait);

[JsonConverter(typeof(JsonStringEnumConverter<StudyQuarterState>))]
public enum StudyQuarterState
{
    /// <summary>A File 1 was accepted in the quarter.</summary>
    Accepted,

    /// <summary>The quarter's File 1s were all rejected so far (the provider's report names why); the study may still resend.</summary>
    Rejected,

    /// <summary>No File 1 in the quarter: the study keeps its previous permissions.</summary>
    NotDelivered,

    /// <summary>An operator closed the wait; the study keeps its previous permissions.</summary>
    Skipped,
}

/// <summary>A reminder to studies whose File 1 has not arrived (an activity's input).</summary>
public sealed record QuarterReminder(string Label, IReadOnlyList<string> Studies, int Number, DateTime Deadline);

/// <summary>Input of the studies' status activity: the cycle and its request (the operators' skips are stored under the instance id).</summary>
public sealed record QuarterStudiesQuery(string InstanceId, QuarterRequest Request);

/// <summary>
/// One study in the quarter: its newest File 1 (if any), every File 1 version the quarter delivers, and what they
/// changed, in counts. A rejected delivery is named by its record id (the provider's report is beside it in their area),
/// never by the file name the provider typed.
/// </summary>
public sealed record StudyQuarter(
    string Study,
    StudyQuarterState State,
    int? Version,
    long Participants,
    long S251Participants,
    string? RejectedRecord,
    IReadOnlyDictionary<string, long> Changes,
    string? SkippedBy)
{
    /// <summary>The File 1 versions this quarter delivers (accepted and newer than any earlier quarter delivered), oldest first.</summary>
    public IReadOnlyList<int> Versions { get; init; } = [];

    /// <summary>Why an operator skipped the study (screened: nothing identifier-shaped).</summary>
    public string? SkipReason { get; init; }
}

/// <summary>Whether the national opt-out list could be used for the cycle, and if not why.</summary>
public sealed record OptOutListCheck(bool Usable, string? Reason, DateTimeOffset? UploadedAt, long Entries);

/// <summary>What the quarter sends NHS England (an activity's input): the accepted studies' committed files, and who is held.</summary>
public sealed record QuarterDeliveryRequest(string Label, IReadOnlyList<StudyQuarter> Accepted, IReadOnlyList<string> Held)
{
    /// <summary>Studies whose newest File 1 this cycle revised with a newer national opt-out list (with or without a File 1 this quarter).</summary>
    public IReadOnlyList<string> Revised { get; init; } = [];
}

/// <summary>Input of the re-application activity: one study, in the cycle that re-applies the list.</summary>
public sealed record QuarterReapply(string Label, string Study);

/// <summary>A file of the quarter's delivery to NHS England, named in its manifest with its checksum.</summary>
public sealed record QuarterFile(string Name, string Role, string? Study, int? Version, long Length, string Sha256);

/// <summary>
/// The quarter's delivery to NHS England: its manifest (the commit point), the files it lists, and per study the File 1
/// versions whose deltas it carries (so no later quarter sends them again). <see cref="Held"/> is for operators only: the
/// manifest NHS England reads never names held studies.
/// </summary>
public sealed record QuarterDelivery(string Manifest, IReadOnlyList<QuarterFile> Files, long DeltaRows, IReadOnlyList<string> Held)
{
    public IReadOnlyDictionary<string, IReadOnlyList<int>> Versions { get; init; } = new Dictionary<string, IReadOnlyList<int>>();

    /// <summary>Per study, the revision of its newest version in <see cref="Versions"/> up to which the deltas went (revisions: decision 0801).</summary>
    public IReadOnlyDictionary<string, int> Revisions { get; init; } = new Dictionary<string, int>();
}

/// <summary>A File 1 delivery held for an operator: its delivery id (for <c>GET /api/deliveries/{id}</c>), study folder and failure class — not its file name or error text.</summary>
public sealed record HeldFile1Delivery(string DeliveryId, string Study, string FailureClass, DateTimeOffset? HeldAt);

/// <summary>The quarter's report for operators: stored (it outlives the history) and returned as the output.</summary>
public sealed record QuarterReport(
    string InstanceId,
    string Quarter,
    IReadOnlyList<StudyQuarter> Studies,
    OptOutListCheck OptOutList,
    IReadOnlyList<string> HeldStudies,
    string? HeldReason,
    int SnapshotsPublished,
    QuarterDelivery Delivery,
    int RemindersSent,
    DateTime CompletedAt)
{
    /// <summary>File 1 deliveries held for an operator when the report was made.</summary>
    public IReadOnlyList<HeldFile1Delivery> HeldDeliveries { get; init; } = [];

    /// <summary>Per active study, what re-applying the cycle's national opt-out list did (empty when the list was unusable).</summary>
    public IReadOnlyList<Ttp.OptOutReapplied> OptOutReapplied { get; init; } = [];

    public int StudiesDelivered => Studies.Count(s => s.State == StudyQuarterState.Accepted);
}

/// <summary>The quarter's custom status: step and progress ("studies 7/9 delivered"), study codes and counts only.</summary>
public sealed record QuarterProgress(string Step, string Progress, IReadOnlyList<string> Waiting, int RemindersSent);
