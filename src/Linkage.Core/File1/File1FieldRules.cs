namespace Linkage.File1;

/// <summary>Per-field limits of the specification, indexed by <see cref="File1Schema"/> position.</summary>
internal static class File1FieldRules
{
    private static readonly string[] Flag = ["0", "1"];

    /// <summary>Maximum length in characters (varchar/char sizes; dates are 10).</summary>
    public static readonly int[] MaxLength =
    [
        50, 1, 10, 255, 255, 255, 255, 255, 255, 255, 255, 8, 10, 10, 10, 1, 10, 1, 1, 50, 1, 50, 1, 1, 50,
        1, 1, 1, 1, 1, 1, 1, 1, 1,
    ];

    /// <summary>The code list of each coded field (null for free text and dates); an empty value is never in a list.</summary>
    public static readonly string[]?[] AllowedCodes = BuildCodes();

    /// <summary>Free-text fields that spreadsheets could run as formulas: names and addresses.</summary>
    public static readonly int[] FormulaCheckedFields =
    [
        File1Schema.Surname, File1Schema.Forename, File1Schema.MiddleNames, 6, 7, 8, 9, File1Schema.Address5,
    ];

    /// <summary>Status and permission flags that belong to the participant rather than to one row.</summary>
    public static readonly int[] ParticipantFlagFields =
    [
        File1Schema.UkllcStatus, File1Schema.NhsELinkagePermission, File1Schema.NhsSLinkagePermission,
        File1Schema.NhsWLinkagePermission, File1Schema.NhsNiLinkagePermission, File1Schema.GeocodingPermission,
        File1Schema.SmallAreaPermission, File1Schema.EnvironmentPermission, File1Schema.PropertyLevelPermission,
        File1Schema.NationalOptOut, File1Schema.DfeLinkagePermission, File1Schema.DwpLinkagePermission,
        File1Schema.HmrcLinkagePermission,
    ];

    private static string[]?[] BuildCodes()
    {
        var codes = new string[]?[File1Schema.FieldCount];
        codes[File1Schema.RowStatus] = ["C", "H"];
        codes[File1Schema.GenderCd] = ["1", "2", "7", "8", "9"];
        codes[File1Schema.GeocodingPermission] = ["0", "1", "2"];
        codes[File1Schema.MultipleBirth] = ["0", "1", "9"];
        foreach (int f in (int[])
                 [
                     File1Schema.UkllcStatus, File1Schema.NhsELinkagePermission, File1Schema.NhsSLinkagePermission,
                     File1Schema.NhsWLinkagePermission, File1Schema.NhsNiLinkagePermission,
                     File1Schema.SmallAreaPermission, File1Schema.EnvironmentPermission,
                     File1Schema.PropertyLevelPermission, File1Schema.NationalOptOut,
                     File1Schema.DfeLinkagePermission, File1Schema.DwpLinkagePermission,
                     File1Schema.HmrcLinkagePermission,
                 ])
        {
            codes[f] = Flag;
        }

        return codes;
    }
}
