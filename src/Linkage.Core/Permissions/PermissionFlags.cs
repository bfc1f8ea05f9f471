namespace Linkage.Permissions;

/// <summary>
/// A participant's permissions, taken from their current File 1 row (see docs/formats/permission-snapshot.md).
/// Stored as 16 bits in the permission snapshot, so the numeric values are part of the format: never renumber.
/// </summary>
[Flags]
public enum PermissionFlags : ushort
{
    None = 0,

    /// <summary>UKLLC_STATUS = 1; without it the participant is withdrawn and nothing new flows about them.</summary>
    Active = 1 << 0,
    NhsE = 1 << 1,
    NhsS = 1 << 2,
    NhsW = 1 << 3,
    NhsNi = 1 << 4,

    /// <summary>Geocoding_Permission ≥ 1.</summary>
    GeocodingPostcode = 1 << 5,

    /// <summary>Geocoding_Permission = 2.</summary>
    GeocodingFullAddress = 1 << 6,
    SmallArea = 1 << 7,
    Environment = 1 << 8,
    PropertyLevel = 1 << 9,
    Dfe = 1 << 10,
    Dwp = 1 << 11,
    Hmrc = 1 << 12,

    /// <summary>The participant's study uses s251 (National_Opt_Out = 1) AND they are on the national data opt-out list.</summary>
    NationalOptOutApplies = 1 << 13,
}

/// <summary>Builds <see cref="PermissionFlags"/> from the File 1 single-character permission fields.</summary>
public static class PermissionFlagsFromFile1
{
    /// <summary>
    /// Combines the permission fields of a participant's current File 1 row. Fields are the raw one-character values
    /// ("1", "0", "2"); anything but the permitting value counts as not permitted.
    /// </summary>
    public static PermissionFlags Build(
        ReadOnlySpan<char> ukllcStatus,
        ReadOnlySpan<char> nhsE,
        ReadOnlySpan<char> nhsS,
        ReadOnlySpan<char> nhsW,
        ReadOnlySpan<char> nhsNi,
        ReadOnlySpan<char> geocoding,
        ReadOnlySpan<char> smallArea,
        ReadOnlySpan<char> environment,
        ReadOnlySpan<char> propertyLevel,
        ReadOnlySpan<char> dfe,
        ReadOnlySpan<char> dwp,
        ReadOnlySpan<char> hmrc,
        ReadOnlySpan<char> nationalOptOut,
        bool onNationalOptOutList)
    {
        var flags = PermissionFlags.None;
        flags |= Is1(ukllcStatus) ? PermissionFlags.Active : 0;
        flags |= Is1(nhsE) ? PermissionFlags.NhsE : 0;
        flags |= Is1(nhsS) ? PermissionFlags.NhsS : 0;
        flags |= Is1(nhsW) ? PermissionFlags.NhsW : 0;
        flags |= Is1(nhsNi) ? PermissionFlags.NhsNi : 0;
        flags |= geocoding is "1" or "2" ? PermissionFlags.GeocodingPostcode : 0;
        flags |= geocoding is "2" ? PermissionFlags.GeocodingFullAddress : 0;
        flags |= Is1(smallArea) ? PermissionFlags.SmallArea : 0;
        flags |= Is1(environment) ? PermissionFlags.Environment : 0;
        flags |= Is1(propertyLevel) ? PermissionFlags.PropertyLevel : 0;
        flags |= Is1(dfe) ? PermissionFlags.Dfe : 0;
        flags |= Is1(dwp) ? PermissionFlags.Dwp : 0;
        flags |= Is1(hmrc) ? PermissionFlags.Hmrc : 0;
        flags |= Is1(nationalOptOut) && onNationalOptOutList ? PermissionFlags.NationalOptOutApplies : 0;
        return flags;
    }

    private static bool Is1(ReadOnlySpan<char> value) => value is "1";
}
