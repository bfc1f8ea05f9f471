namespace Linkage.Synth;

/// <summary>Which kind of NHS number a synthetic person carries.</summary>
public enum NhsNumberKind
{
    Valid,
    Missing,
    Invalid,
}

/// <summary>One address in File 1 form (dates already written as dd/mm/yyyy, with 00 parts where unknown).</summary>
public sealed record SyntheticAddress(
    string Line1, string Line2, string Line3, string Line4, string Line5, string Postcode,
    string StartDate, string EndDate, DateOnly StartedOn);

/// <summary>The identity of one synthetic person: the same in every study they belong to.</summary>
public sealed class SyntheticPerson
{
    public required long PersonNumber { get; init; }

    public required NhsNumberKind NhsKind { get; init; }

    /// <summary>Ten digits, or empty when missing.</summary>
    public required string NhsNumber { get; init; }

    /// <summary>GENDER_CD: 1 male, 2 female, 7 other, 8 unspecified, 9 unknown.</summary>
    public required char Gender { get; init; }

    public required string Forename { get; init; }

    public required string Surname { get; init; }

    public required string MiddleNames { get; init; }

    /// <summary>A surname used before <see cref="NameChangedOn"/> (e.g. before marriage), or null.</summary>
    public string? PreviousSurname { get; init; }

    public DateOnly NameChangedOn { get; init; }

    /// <summary>True when the person is also known by a short form of their forename (an alternative-name row).</summary>
    public bool HasShortForename { get; init; }

    /// <summary>Null when the provider does not know it.</summary>
    public DateOnly? DateOfBirth { get; init; }

    /// <summary>DATE_OF_BIRTH as written in File 1: empty if unknown, day 01 when only month and year are known.</summary>
    public required string DateOfBirthText { get; init; }

    /// <summary>Index 0 is the current address; later entries are earlier addresses, newest first.</summary>
    public required IReadOnlyList<SyntheticAddress> Addresses { get; init; }
}
