namespace Linkage.File1;

/// <summary>A check with a stable code, its severity and the advice shown to the study data manager.</summary>
public sealed class File1Rule(string code, File1Severity severity, Func<string?, string> message)
{
    public string Code { get; } = code;

    public File1Severity Severity { get; } = severity;

    /// <summary>The message for a field (null for file-level findings); it never contains values from the file.</summary>
    public string Message(string? field) => message(field);
}

/// <summary>Every File 1 rule. docs/formats/file1-check.md documents each code; a test keeps the two in step.</summary>
public static class File1Rules
{
    private const File1Severity E = File1Severity.Error;
    private const File1Severity W = File1Severity.Warning;

    public static File1Rule FileEmpty { get; } = new("file-empty", E, _ =>
        "The file is empty. Export the File 1 again: a header line with the 34 field names, then one line per row.");

    public static File1Rule FileNoDataRows { get; } = new("file-no-data-rows", E, _ =>
        "The file has a header but no data rows. Export the File 1 again with every participant's rows.");

    public static File1Rule FileNamePattern { get; } = new("file-name-pattern", E, _ =>
        "The file name must be <STUDYCODE>_FILE1_v<N>_<YYYYMMDD>.csv, e.g. ALSPAC_FILE1_v3_20260301.csv, with a real date. Rename the file.");

    public static File1Rule FileNameUnknownStudy { get; } = new("file-name-unknown-study", E, _ =>
        "The study code in the file name is not a known study. Use your study's code exactly as registered with UK LLC (capital letters).");

    public static File1Rule FileNameStudyMismatch { get; } = new("file-name-study-mismatch", E, _ =>
        "The study code in the file name is not the study this file was uploaded for. Upload only your own study's File 1, named with your study code.");

    public static File1Rule FileVersionSuperseded { get; } = new("file-version-superseded", E, _ =>
        "A File 1 with a higher version number has already been accepted for this study. Send a new File 1 with a version number above the last accepted one; an older file would roll participants' permissions back.");

    public static File1Rule FileVersionRenamed { get; } = new("file-version-renamed", E, _ =>
        "This version number was already accepted for this study under another file name (another date). Send the correction as a new version, numbered above the last accepted one: one version number names one file.");

    public static File1Rule EncodingBom { get; } = new("encoding-bom", W, _ =>
        "The file starts with a UTF-8 byte order mark. It is accepted and ignored; to avoid this warning save as UTF-8 without BOM.");

    public static File1Rule EncodingInvalidUtf8 { get; } = new("encoding-invalid-utf8", E, _ =>
        "These lines contain bytes that are not UTF-8 (often a file saved as Windows-1252/ANSI, e.g. accented names). Save the file as UTF-8.");

    public static File1Rule HeaderMissing { get; } = new("header-missing", W, _ =>
        "The first line is not a header, so fields were read by position in the order of the specification. Add the header line with the 34 field names.");

    public static File1Rule HeaderFieldMissing { get; } = new("header-field-missing", E, _ =>
        "The header lacks required fields (named below). Add them so the header has exactly the 34 fields of the specification, in order.");

    public static File1Rule HeaderFieldUnexpected { get; } = new("header-field-unexpected", E, _ =>
        "The header has fields that are not in the specification (named below). Remove those columns.");

    public static File1Rule HeaderFieldDuplicate { get; } = new("header-field-duplicate", E, _ =>
        "The header names a field more than once (named below). Keep one column per field.");

    public static File1Rule HeaderFieldOrder { get; } = new("header-field-order", E, _ =>
        "The header's fields are out of order (the fields named below come too late or too early). Put the 34 fields in the order of the specification.");

    public static File1Rule HeaderFieldCase { get; } = new("header-field-case", W, _ =>
        "Some header names differ from the specification only in capital letters (named below). They were accepted; use the exact names.");

    public static File1Rule HeaderFieldSpaces { get; } = new("header-field-spaces", W, _ =>
        "Some header names have spaces before or after them (named below). They were accepted without the spaces; remove the spaces.");

    public static File1Rule CsvUnbalancedQuote { get; } = new("csv-unbalanced-quote", E, _ =>
        "A quoted value is not closed before the end of the line. Add the missing closing quote; values may not contain line breaks.");

    public static File1Rule CsvStrayQuote { get; } = new("csv-stray-quote", E, _ =>
        "A double quote appears inside an unquoted value or straight after a closing quote. Put the whole value in quotes and double any quote inside it (\"\").");

    public static File1Rule CsvFieldCount { get; } = new("csv-field-count", E, _ =>
        "These lines do not have the same number of fields as the header (34). Check for missing or extra commas, and quote values that contain commas.");

    public static File1Rule CsvBlankLine { get; } = new("csv-blank-line", W, _ =>
        "These lines are empty and were skipped. Remove empty lines.");

    public static File1Rule ValueRequired { get; } = new("value-required", E, f =>
        $"{f} is empty; it is required on every row. Fill it in.");

    public static File1Rule ValueTooLong { get; } = new("value-too-long", E, f =>
        $"{f} is longer than its limit of {MaxLength(f)} characters. Shorten it (the values are not shown here).");

    public static File1Rule CodeInvalid { get; } = new("code-invalid", E, f =>
        $"{f} holds a value outside its code list; allowed: {AllowedCodes(f)}. Correct the value.");

    public static File1Rule StudyIdWhitespace { get; } = new("study-id-whitespace", E, _ =>
        "STUDY_ID has spaces or tabs at its start or end, which would make it a different participant. Remove them.");

    public static File1Rule NhsNumberNotDigits { get; } = new("nhs-number-not-digits", E, _ =>
        "NHS_NUMBER must be digits only, without spaces or other characters. Remove them, or leave the field empty if unknown.");

    public static File1Rule NhsNumberLength { get; } = new("nhs-number-length", E, _ =>
        "NHS_NUMBER must have exactly 10 digits. Check for a lost leading zero or a truncated number, or leave the field empty if unknown.");

    public static File1Rule NhsNumberCheckDigit { get; } = new("nhs-number-check-digit", E, _ =>
        "NHS_NUMBER fails the Modulus 11 check digit, so it is mistyped or not an NHS number. Correct it, or leave the field empty if unknown.");

    public static File1Rule DateFormat { get; } = new("date-format", E, f =>
        $"{f} is not written dd/mm/yyyy (two-digit day, two-digit month, four-digit year, slashes). {DateAdvice(f)}");

    public static File1Rule DateInvalid { get; } = new("date-invalid", E, f =>
        $"{f} is not a real calendar date (e.g. 31/02 or month 13). {DateAdvice(f)}");

    public static File1Rule DateUnknownPart { get; } = new("date-unknown-part", E, f =>
        $"{f} uses 00 for an unknown part, which this field does not allow. {DateAdvice(f)}");

    public static File1Rule DateInFuture { get; } = new("date-in-future", E, f =>
        $"{f} is later than today. Correct the date.");

    public static File1Rule AddressDateInFuture { get; } = new("address-date-in-future", W, f =>
        $"{f} is later than today. Check the date.");

    public static File1Rule AddressDatesReversed { get; } = new("address-dates-reversed", W, _ =>
        "ADDRESS_END_DATE is before ADDRESS_START_DATE. Check the two dates.");

    public static File1Rule PostcodeFormat { get; } = new("postcode-format", W, _ =>
        "POSTCODE is not a UK postcode in capitals with one space (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA or AA9A 9AA). Check it; overseas or partial postcodes may stay.");

    public static File1Rule FormulaInjection { get; } = new("formula-injection", W, f =>
        $"{f} starts with =, +, -, @ or a tab, which spreadsheets may run as a formula. The trusted third party neutralises such values (prefixing a quote); check they are genuine.");

    public static File1Rule ParticipantNoCurrentRow { get; } = new("participant-no-current-row", E, _ =>
        "A STUDY_ID has no current row (ROW_STATUS = C); the line listed is the participant's first row. Mark exactly one row of each participant as C.");

    public static File1Rule ParticipantSeveralCurrentRows { get; } = new("participant-several-current-rows", E, _ =>
        "A STUDY_ID has more than one current row (ROW_STATUS = C); the lines listed are the extra C rows. Keep one C row and mark the others H.");

    public static File1Rule ParticipantPermissionsDiffer { get; } = new("participant-permissions-differ", W, _ =>
        "Rows of the same STUDY_ID carry different status or permission flags (UKLLC_STATUS … HMRC_Linkage_Permission); the current row's flags are used. Make them the same on every row of a participant.");

    public static File1Rule FirstFileWithdrawn { get; } = new("first-file-withdrawn", E, _ =>
        "This is your study's first File 1, so every participant must be active (UKLLC_STATUS = 1). Leave withdrawn participants out of the first file.");

    public static File1Rule CreateDateVaries { get; } = new("create-date-varies", W, _ =>
        "CREATE_DATE differs from the first row's. It is the date the file was made: use one date on every row.");

    public static File1Rule CreateDateFileNameMismatch { get; } = new("create-date-file-name-mismatch", W, _ =>
        "CREATE_DATE is not the date in the file name. Check which is right.");

    /// <summary>Every rule, for documentation and tests.</summary>
    public static IReadOnlyList<File1Rule> All { get; } =
    [
        FileEmpty, FileNoDataRows, FileNamePattern, FileNameUnknownStudy, FileNameStudyMismatch, FileVersionSuperseded, FileVersionRenamed, EncodingBom,
        EncodingInvalidUtf8, HeaderMissing, HeaderFieldMissing, HeaderFieldUnexpected, HeaderFieldDuplicate,
        HeaderFieldOrder, HeaderFieldCase, HeaderFieldSpaces, CsvUnbalancedQuote, CsvStrayQuote, CsvFieldCount, CsvBlankLine,
        ValueRequired, ValueTooLong, CodeInvalid, StudyIdWhitespace, NhsNumberNotDigits, NhsNumberLength,
        NhsNumberCheckDigit, DateFormat, DateInvalid, DateUnknownPart, DateInFuture, AddressDateInFuture,
        AddressDatesReversed, PostcodeFormat, FormulaInjection, ParticipantNoCurrentRow,
        ParticipantSeveralCurrentRows, ParticipantPermissionsDiffer, FirstFileWithdrawn, CreateDateVaries,
        CreateDateFileNameMismatch,
    ];

    private static int MaxLength(string? field) =>
        field is null ? 0 : File1FieldRules.MaxLength[IndexOf(field)];

    private static string AllowedCodes(string? field) =>
        field is null ? "" : string.Join(", ", File1FieldRules.AllowedCodes[IndexOf(field)] ?? []);

    private static int IndexOf(string field)
    {
        for (int i = 0; i < File1Schema.FieldCount; i++)
        {
            if (File1Schema.FieldNames[i] == field)
            {
                return i;
            }
        }

        throw new ArgumentException("Not a File 1 field.", nameof(field));
    }

    private static string DateAdvice(string? field) => field switch
    {
        "ADDRESS_START_DATE" => "Write dd/mm/yyyy, 00 for an unknown day or month, or leave it empty if unknown.",
        "ADDRESS_END_DATE" => "Write dd/mm/yyyy (00 for an unknown day or month), 00/00/0000 for a past address whose end date is unknown, or leave it empty for the current address.",
        "DATE_OF_BIRTH" => "Write dd/mm/yyyy; write 01 for an unknown day, or leave it empty if unknown.",
        _ => "Write the full date as dd/mm/yyyy.",
    };
}
