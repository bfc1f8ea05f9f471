namespace Linkage.Synth;

/// <summary>Permission flags of a participant as File 1 characters (the same on all of the participant's rows).</summary>
public sealed record SyntheticPermissions(
    char NhsE, string NhsDigitalStudyNumber, char NhsS, string NhsSStudyNumber, char NhsW, char NhsNi,
    string NhsNiStudyNumber, char Geocoding, char SmallArea, char Environment, char PropertyLevel, char MultipleBirth,
    char Dfe, char Dwp, char Hmrc);

/// <summary>A person's membership of one study: STUDY_ID and the permissions they gave to that study.</summary>
public sealed class SyntheticParticipant
{
    public required int StudyIndex { get; init; }

    public required string StudyCode { get; init; }

    /// <summary>Position in the study (0-based); participants at or beyond the first-quarter size joined later.</summary>
    public required int Index { get; init; }

    public required string StudyId { get; init; }

    public required SyntheticPerson Person { get; init; }

    /// <summary>True when the person is the same as the first study's participant with this index.</summary>
    public required bool IsCrossStudy { get; init; }

    public required int JoinQuarter { get; init; }

    /// <summary>Permissions when the participant joined; see <see cref="SynthCohort.StatusAt"/> for later changes.</summary>
    public required SyntheticPermissions Permissions { get; init; }
}

/// <summary>The status a participant has in one quarter's File 1.</summary>
public readonly record struct ParticipantStatus(bool Active, bool NhsEPermission);
