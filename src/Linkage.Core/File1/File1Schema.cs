namespace Linkage.File1;

/// <summary>The 34 File 1 fields, in the order the specification requires (see docs/formats/file1.md).</summary>
public static class File1Schema
{
    public const int StudyId = 0;
    public const int RowStatus = 1;
    public const int NhsNumber = 2;
    public const int Surname = 3;
    public const int Forename = 4;
    public const int MiddleNames = 5;
    public const int Address1 = 6;
    public const int Address5 = 10;
    public const int Postcode = 11;
    public const int AddressStartDate = 12;
    public const int AddressEndDate = 13;
    public const int DateOfBirth = 14;
    public const int GenderCd = 15;
    public const int CreateDate = 16;
    public const int UkllcStatus = 17;
    public const int NhsELinkagePermission = 18;
    public const int NhsDigitalStudyNumber = 19;
    public const int NhsSLinkagePermission = 20;
    public const int NhsSStudyNumber = 21;
    public const int NhsWLinkagePermission = 22;
    public const int NhsNiLinkagePermission = 23;
    public const int NhsNiStudyNumber = 24;
    public const int GeocodingPermission = 25;
    public const int SmallAreaPermission = 26;
    public const int EnvironmentPermission = 27;
    public const int PropertyLevelPermission = 28;
    public const int MultipleBirth = 29;
    public const int NationalOptOut = 30;
    public const int DfeLinkagePermission = 31;
    public const int DwpLinkagePermission = 32;
    public const int HmrcLinkagePermission = 33;

    public const int FieldCount = 34;

    public static IReadOnlyList<string> FieldNames { get; } =
    [
        "STUDY_ID", "ROW_STATUS", "NHS_NUMBER", "SURNAME", "FORENAME", "MIDDLENAMES",
        "ADDRESS_1", "ADDRESS_2", "ADDRESS_3", "ADDRESS_4", "ADDRESS_5", "POSTCODE",
        "ADDRESS_START_DATE", "ADDRESS_END_DATE", "DATE_OF_BIRTH", "GENDER_CD", "CREATE_DATE",
        "UKLLC_STATUS", "NHS_E_Linkage_Permission", "NHS_Digital_Study_Number",
        "NHS_S_Linkage_Permission", "NHS_S_Study_Number", "NHS_W_Linkage_Permission",
        "NHS_NI_Linkage_Permission", "NHS_NI_Study_Number", "Geocoding_Permission",
        "Small_Area_Permission", "Environment_Permission", "Property_Level_Permission",
        "Multiple_Birth", "National_Opt_Out", "DFE_Linkage_Permission", "DWP_Linkage_Permission",
        "HMRC_Linkage_Permission",
    ];

    /// <summary>Fields that identify a person: they may exist only in trusted-third-party (TTP) zone stores.</summary>
    public static IReadOnlyList<int> IdentifierFields { get; } =
    [
        NhsNumber, Surname, Forename, MiddleNames, 6, 7, 8, 9, Address5, Postcode, DateOfBirth,
        NhsDigitalStudyNumber, NhsSStudyNumber, NhsNiStudyNumber,
    ];
}
