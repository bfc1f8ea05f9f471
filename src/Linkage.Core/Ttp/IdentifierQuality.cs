namespace Linkage.Ttp;

/// <summary>Which identifiers a participant's current row holds: what the ID mapping file tells the processor instead of the identifiers.</summary>
[Flags]
public enum IdentifierQuality : ushort
{
    None = 0,
    HasNhsNumber = 1 << 0,
    NhsNumberValid = 1 << 1,
    HasDateOfBirth = 1 << 2,
    HasSurname = 1 << 3,
    HasForename = 1 << 4,
    HasAddress = 1 << 5,
    HasPostcode = 1 << 6,
    PostcodeWellFormed = 1 << 7,
    HasGender = 1 << 8,
}
