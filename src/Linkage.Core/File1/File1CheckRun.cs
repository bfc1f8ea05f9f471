namespace Linkage.File1;

/// <summary>The state of one check: findings so far, counters and per-participant state.</summary>
internal sealed class File1CheckRun
{
    private static readonly string[] Names = [.. File1Schema.FieldNames];

    private readonly File1CheckOptions _options;
    private readonly FindingCollector _findings;
    private readonly ParticipantTracker _participants = new();
    private readonly DateOnly _today;
    private readonly string? _studyCode;
    private readonly int? _version;
    private readonly DateOnly? _fileDate;

    private long _rows;
    private long _currentRows;
    private long _historicalRows;
    private DateOnly? _firstCreateDate;
    private bool _createDateComparedToName;

    public File1CheckRun(File1CheckOptions options)
    {
        _options = options;
        _findings = new FindingCollector(options.MaxLinesPerFinding);
        _today = DateOnly.FromDateTime(options.TimeProvider.GetUtcNow().UtcDateTime);
        if (options.FileName is { } name)
        {
            if (File1FileName.TryParse(name, out string study, out int version, out var date))
            {
                (_studyCode, _version, _fileDate) = (study, version, date);
                if (!options.KnownStudyCodes.Contains(study, StringComparer.Ordinal))
                {
                    _findings.AddFileLevel(File1Rules.FileNameUnknownStudy);
                }

                if (options.ExpectedStudyCode is { } expected && !string.Equals(expected, study, StringComparison.Ordinal))
                {
                    _findings.AddFileLevel(File1Rules.FileNameStudyMismatch);
                }

                if (options.LatestAcceptedVersion is { } latest && version < latest)
                {
                    _findings.AddFileLevel(File1Rules.FileVersionSuperseded);
                }

                if (options.AcceptedNameOfThisVersion is { } acceptedName && !string.Equals(acceptedName, options.FileName, StringComparison.Ordinal))
                {
                    _findings.AddFileLevel(File1Rules.FileVersionRenamed);
                }
            }
            else
            {
                _findings.AddFileLevel(File1Rules.FileNamePattern);
            }
        }
    }

    public void CheckRow(File1Row row)
    {
        _rows++;
        long line = row.LineNumber;
        var problems = row.Problems;
        if ((problems & File1RowProblems.InvalidUtf8) != 0)
        {
            _findings.Add(File1Rules.EncodingInvalidUtf8, null, line);
        }

        if ((problems & File1RowProblems.UnbalancedQuote) != 0)
        {
            _findings.Add(File1Rules.CsvUnbalancedQuote, null, line);
        }

        if ((problems & File1RowProblems.StrayQuote) != 0)
        {
            _findings.Add(File1Rules.CsvStrayQuote, null, line);
        }

        if ((problems & File1RowProblems.WrongFieldCount) != 0)
        {
            // Values would be shifted: checking them would only add noise, so the line is reported once.
            _findings.Add(File1Rules.CsvFieldCount, null, line);
            return;
        }

        for (int f = 0; f < File1Schema.FieldCount; f++)
        {
            if (row.HasField(f) && row.FieldLength(f) > File1FieldRules.MaxLength[f] && File1FieldRules.AllowedCodes[f] is null
                && !IsDate(f))
            {
                _findings.Add(File1Rules.ValueTooLong, Names[f], line);
            }

            if (File1FieldRules.AllowedCodes[f] is { } codes && row.HasField(f) && !IsInList(row[f], codes))
            {
                _findings.Add(File1Rules.CodeInvalid, Names[f], line);
            }
        }

        CheckStudyId(row, line);
        CheckNhsNumber(row[File1Schema.NhsNumber], line);
        CheckPostcode(row, line);
        CheckDates(row, line);
        CheckFormulaText(row, line);

        var status = row[File1Schema.RowStatus];
        bool isCurrent = status is "C";
        if (isCurrent)
        {
            _currentRows++;
        }
        else if (status is "H")
        {
            _historicalRows++;
        }

        if (_options.IsFirstFile && row[File1Schema.UkllcStatus] is "0")
        {
            _findings.Add(File1Rules.FirstFileWithdrawn, Names[File1Schema.UkllcStatus], line);
        }

        var studyId = row[File1Schema.StudyId];
        if (row.HasField(File1Schema.StudyId) && row.HasField(File1Schema.RowStatus) && !studyId.IsEmpty)
        {
            var (current, flagsDiffer) = _participants.Add(studyId, isCurrent, FlagSignature(row), line);
            if (isCurrent && current > 1)
            {
                _findings.Add(File1Rules.ParticipantSeveralCurrentRows, Names[File1Schema.RowStatus], line);
            }

            if (flagsDiffer)
            {
                _findings.Add(File1Rules.ParticipantPermissionsDiffer, null, line);
            }
        }
    }

    public File1CheckReport Finish(File1Reader reader)
    {
        if (reader.HasByteOrderMark)
        {
            _findings.AddFileLevel(File1Rules.EncodingBom);
        }

        if (reader.IsEmpty || reader.HeaderKind == File1HeaderKind.None)
        {
            _findings.AddFileLevel(File1Rules.FileEmpty);
        }
        else
        {
            ReportHeader(reader);
            if (_rows == 0)
            {
                _findings.AddFileLevel(File1Rules.FileNoDataRows);
            }
        }

        if (reader.BlankLineCount > 0)
        {
            _findings.AddLines(File1Rules.CsvBlankLine, null, reader.BlankLines, reader.BlankLineCount);
        }

        var (firstLines, withoutCurrent) = _participants.WithoutCurrentRow(_options.MaxLinesPerFinding);
        if (withoutCurrent > 0)
        {
            _findings.AddLines(File1Rules.ParticipantNoCurrentRow, Names[File1Schema.RowStatus], firstLines, withoutCurrent);
        }

        return new File1CheckReport
        {
            FileName = _options.FileName is null ? null : Path.GetFileName(_options.FileName),
            StudyCode = _studyCode,
            Version = _version,
            FileDate = _fileDate,
            Rows = _rows,
            Participants = _participants.Count,
            CurrentRows = _currentRows,
            HistoricalRows = _historicalRows,
            ErrorCount = _findings.Count(File1Severity.Error),
            WarningCount = _findings.Count(File1Severity.Warning),
            Findings = _findings.ToFindings(),
        };
    }

    private void ReportHeader(File1Reader reader)
    {
        var header = reader.Header!;
        if (header.Kind == File1HeaderKind.Missing)
        {
            _findings.Add(File1Rules.HeaderMissing, null, 1);
            return;
        }

        var lineProblems = reader.HeaderLineProblems;
        if ((lineProblems & File1RowProblems.InvalidUtf8) != 0)
        {
            _findings.Add(File1Rules.EncodingInvalidUtf8, null, 1);
        }

        if ((lineProblems & File1RowProblems.UnbalancedQuote) != 0)
        {
            _findings.Add(File1Rules.CsvUnbalancedQuote, null, 1);
        }

        if ((lineProblems & File1RowProblems.StrayQuote) != 0)
        {
            _findings.Add(File1Rules.CsvStrayQuote, null, 1);
        }

        AddHeaderNames(File1Rules.HeaderFieldMissing, header.MissingNames);
        AddHeaderNames(File1Rules.HeaderFieldUnexpected, header.UnexpectedNames);
        AddHeaderNames(File1Rules.HeaderFieldDuplicate, header.DuplicateNames);
        AddHeaderNames(File1Rules.HeaderFieldOrder, header.MisorderedNames);
        AddHeaderNames(File1Rules.HeaderFieldCase, header.CaseMismatchedNames);
        AddHeaderNames(File1Rules.HeaderFieldSpaces, header.PaddedNames);
    }

    private void AddHeaderNames(File1Rule rule, List<string> names)
    {
        if (names.Count == 0)
        {
            return;
        }

        const int MaxNames = 40;
        string list = string.Join(", ", names.Take(MaxNames)) + (names.Count > MaxNames ? ", …" : "");
        _findings.Add(rule, null, 1, names.Count);
        _findings.SetDetail(rule, null, $"Fields: {list}.");
    }

    private void CheckStudyId(File1Row row, long line)
    {
        if (!row.HasField(File1Schema.StudyId))
        {
            return;
        }

        var id = row[File1Schema.StudyId];
        if (id.IsEmpty)
        {
            _findings.Add(File1Rules.ValueRequired, Names[File1Schema.StudyId], line);
        }
        else if (char.IsWhiteSpace(id[0]) || char.IsWhiteSpace(id[^1]))
        {
            _findings.Add(File1Rules.StudyIdWhitespace, Names[File1Schema.StudyId], line);
        }
    }

    private void CheckNhsNumber(ReadOnlySpan<char> value, long line)
    {
        if (value.IsEmpty)
        {
            return;
        }

        string field = Names[File1Schema.NhsNumber];
        if (!NhsNumber.IsAllDigits(value))
        {
            _findings.Add(File1Rules.NhsNumberNotDigits, field, line);
        }
        else if (value.Length != 10)
        {
            _findings.Add(File1Rules.NhsNumberLength, field, line);
        }
        else if (!NhsNumber.IsValid(value))
        {
            _findings.Add(File1Rules.NhsNumberCheckDigit, field, line);
        }
    }

    private void CheckPostcode(File1Row row, long line)
    {
        var postcode = row[File1Schema.Postcode];
        if (!postcode.IsEmpty && !UkPostcode.IsWellFormed(postcode))
        {
            _findings.Add(File1Rules.PostcodeFormat, Names[File1Schema.Postcode], line);
        }
    }

    private void CheckDates(File1Row row, long line)
    {
        var start = CheckDate(row, File1Schema.AddressStartDate, line, allowUnknownParts: true, allowAllZero: false, out var startDate);
        var end = CheckDate(row, File1Schema.AddressEndDate, line, allowUnknownParts: true, allowAllZero: true, out var endDate);
        var birth = CheckDate(row, File1Schema.DateOfBirth, line, allowUnknownParts: false, allowAllZero: false, out var birthDate);
        var created = CheckDate(row, File1Schema.CreateDate, line, allowUnknownParts: false, allowAllZero: false, out var createDate);

        if (start is File1DateKind.Known or File1DateKind.PartlyUnknown && startDate > _today)
        {
            _findings.Add(File1Rules.AddressDateInFuture, Names[File1Schema.AddressStartDate], line);
        }

        if (end is File1DateKind.Known or File1DateKind.PartlyUnknown && endDate > _today)
        {
            _findings.Add(File1Rules.AddressDateInFuture, Names[File1Schema.AddressEndDate], line);
        }

        if (start == File1DateKind.Known && end == File1DateKind.Known && endDate < startDate)
        {
            _findings.Add(File1Rules.AddressDatesReversed, Names[File1Schema.AddressEndDate], line);
        }

        // A day's grace: the provider's clock may be ahead of UTC.
        if (birth == File1DateKind.Known && birthDate > _today.AddDays(1))
        {
            _findings.Add(File1Rules.DateInFuture, Names[File1Schema.DateOfBirth], line);
        }

        if (created == File1DateKind.Empty && row.HasField(File1Schema.CreateDate))
        {
            _findings.Add(File1Rules.ValueRequired, Names[File1Schema.CreateDate], line);
        }
        else if (created == File1DateKind.Known)
        {
            CheckCreateDate(createDate, line);
        }
    }

    private void CheckCreateDate(DateOnly createDate, long line)
    {
        string field = Names[File1Schema.CreateDate];
        if (createDate > _today.AddDays(1))
        {
            _findings.Add(File1Rules.DateInFuture, field, line);
        }

        if (_firstCreateDate is null)
        {
            _firstCreateDate = createDate;
        }
        else if (_firstCreateDate != createDate)
        {
            _findings.Add(File1Rules.CreateDateVaries, field, line);
        }

        if (!_createDateComparedToName && _fileDate is { } fileDate)
        {
            _createDateComparedToName = true;
            if (fileDate != createDate)
            {
                _findings.Add(File1Rules.CreateDateFileNameMismatch, field, line);
            }
        }
    }

    private File1DateKind CheckDate(File1Row row, int field, long line, bool allowUnknownParts, bool allowAllZero, out DateOnly date)
    {
        var kind = File1Date.Parse(row[field], allowUnknownParts, allowAllZero, out date);
        var rule = kind switch
        {
            File1DateKind.BadFormat => File1Rules.DateFormat,
            File1DateKind.NotACalendarDate => File1Rules.DateInvalid,
            File1DateKind.UnknownPartNotAllowed => File1Rules.DateUnknownPart,
            _ => null,
        };
        if (rule is not null)
        {
            _findings.Add(rule, Names[field], line);
        }

        return kind;
    }

    private void CheckFormulaText(File1Row row, long line)
    {
        foreach (int f in File1FieldRules.FormulaCheckedFields)
        {
            var value = row[f];
            if (Linkage.Text.SpreadsheetFormula.StartsFormula(value))
            {
                _findings.Add(File1Rules.FormulaInjection, Names[f], line);
            }
        }
    }

    private static bool IsDate(int field) =>
        field is File1Schema.AddressStartDate or File1Schema.AddressEndDate or File1Schema.DateOfBirth or File1Schema.CreateDate;

    private static bool IsInList(ReadOnlySpan<char> value, string[] codes)
    {
        foreach (string code in codes)
        {
            if (value.SequenceEqual(code))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Packs the participant-level flags, 4 bits each (digit, 10 = empty, 11 = anything else).</summary>
    private static ulong FlagSignature(File1Row row)
    {
        ulong signature = 0;
        foreach (int f in File1FieldRules.ParticipantFlagFields)
        {
            var value = row[f];
            ulong code = value.Length switch
            {
                0 => 10,
                1 when value[0] is >= '0' and <= '9' => (ulong)(value[0] - '0'),
                _ => 11,
            };
            signature = (signature << 4) | code;
        }

        return signature;
    }
}
