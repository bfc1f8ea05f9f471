namespace Linkage.Functions.Processor;

/// <summary>
/// The points between the File 2 intake's steps (decision 0603), as <see cref="Hosting.IStepFaults"/> sees them:
/// <c>Faults:At=File2.Staged</c> stops an intake after it staged its outputs and before it commits the catalogue record.
/// </summary>
public static class File2Steps
{
    /// <summary>Checked: spec, key versions, snapshots; the version number is reserved.</summary>
    public const string Checked = "File2.Checked";

    /// <summary>Curated: the rows are in staged, uncommitted blocks of the data blob.</summary>
    public const string Curated = "File2.Curated";

    /// <summary>Staged: data blob committed, risk report, metadata and rejects report written under the version folder.</summary>
    public const string Staged = "File2.Staged";

    /// <summary>Committed: the catalogue record exists (state Curated); the version now exists for readers.</summary>
    public const string Committed = "File2.Committed";

    /// <summary>Current version set on the dataset document; the delivery is not archived yet.</summary>
    public const string CurrentVersionSet = "File2.CurrentVersionSet";

    public static IReadOnlyList<string> All { get; } = [Checked, Curated, Staged, Committed, CurrentVersionSet];
}

/// <summary>
/// Too many of a File 2's rows are about people in no permission snapshot: the file is held, not published, because the
/// snapshots naming them may not have arrived yet (the delivery workflow waits and retries, then holds it).
/// </summary>
public sealed class UnknownParticipantShareException(string message) : InvalidOperationException(message);

/// <summary>The File 2's TTP tokens and the permission snapshots were made with different TTP key versions.</summary>
public sealed class TokenKeyVersionMismatchException(string message) : InvalidOperationException(message);
