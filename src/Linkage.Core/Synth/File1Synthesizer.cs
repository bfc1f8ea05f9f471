using Linkage.File1;

namespace Linkage.Synth;

/// <summary>Writes one study's File 1 for one quarter, participant by participant.</summary>
public sealed class File1Synthesizer(SynthCohort cohort)
{
    /// <summary>The specification's file name: <c>&lt;STUDY&gt;_FILE1_v&lt;N&gt;_&lt;YYYYMMDD&gt;.csv</c>.</summary>
    public static string FileNameFor(string studyCode, int version, DateOnly date) =>
        $"{studyCode}_FILE1_v{version}_{DateText.Compact(date)}.csv";

    public string FileName(int study, int quarter) =>
        FileNameFor(cohort.Options.Studies[study], quarter, cohort.Options.FileDate(quarter));

    /// <summary>Writes the file; <paramref name="record"/> receives its row count and counts of what it holds.</summary>
    public void Write(int study, int quarter, Stream output, SynthFileRecord record, Action<long>? rowsWritten, CancellationToken ct)
    {
        string createDate = DateText.Dmy(cohort.Options.FileDate(quarter));
        char nationalOptOut = study == cohort.S251StudyIndex ? '1' : '0';
        int participants = cohort.Options.ParticipantsInQuarter(quarter);
        long withdrawn = 0, nhsERefused = 0, missingNhs = 0, invalidNhs = 0, crossStudy = 0, historical = 0;
        long newlyWithdrawn = 0, nhsEOptOuts = 0, nhsEOptIns = 0, joined = 0;

        using var csv = new Utf8CsvWriter(output, leaveOpen: true);
        csv.Header(File1Schema.FieldNames);
        for (int i = 0; i < participants; i++)
        {
            if ((i & 1023) == 0)
            {
                ct.ThrowIfCancellationRequested();
                rowsWritten?.Invoke(csv.Rows);
            }

            var participant = cohort.Participant(study, i);
            var status = cohort.StatusAt(participant, quarter);
            if (participant.JoinQuarter == quarter && quarter > 1)
            {
                joined++;
            }
            else if (quarter > 1)
            {
                var before = cohort.StatusAt(participant, quarter - 1);
                newlyWithdrawn += before.Active && !status.Active ? 1 : 0;
                nhsEOptOuts += status.Active && before.NhsEPermission && !status.NhsEPermission ? 1 : 0;
                nhsEOptIns += status.Active && !before.NhsEPermission && status.NhsEPermission ? 1 : 0;
            }

            withdrawn += status.Active ? 0 : 1;
            nhsERefused += status.NhsEPermission ? 0 : 1;
            missingNhs += participant.Person.NhsKind == NhsNumberKind.Missing ? 1 : 0;
            invalidNhs += participant.Person.NhsKind == NhsNumberKind.Invalid ? 1 : 0;
            crossStudy += participant.IsCrossStudy ? 1 : 0;

            var rowContext = new RowContext(participant, status, createDate, nationalOptOut);
            historical += WriteParticipant(csv, rowContext);
        }

        csv.Flush();
        rowsWritten?.Invoke(csv.Rows);
        record.Rows = csv.Rows;
        record.Count("participants", participants)
            .Count("historicalRows", historical)
            .Count("withdrawn", withdrawn)
            .Count("nhsERefused", nhsERefused)
            .Count("missingNhsNumber", missingNhs)
            .Count("invalidNhsNumber", invalidNhs)
            .Count("crossStudyParticipants", crossStudy)
            .Count("nationalOptOut", nationalOptOut - '0');
        if (quarter > 1)
        {
            record.Count("newParticipants", joined)
                .Count("newlyWithdrawn", newlyWithdrawn)
                .Count("nhsEOptOuts", nhsEOptOuts)
                .Count("nhsEOptIns", nhsEOptIns);
        }
    }

    private readonly record struct RowContext(
        SyntheticParticipant Participant, ParticipantStatus Status, string CreateDate, char NationalOptOut);

    /// <summary>The C row, then H rows for earlier addresses and alternative names; returns the H row count.</summary>
    private static int WriteParticipant(Utf8CsvWriter csv, in RowContext row)
    {
        var person = row.Participant.Person;
        var current = person.Addresses[0];
        WriteRow(csv, row, 'C', person.Surname, person.Forename, current);
        int historical = 0;
        bool previousSurnameUsed = false;
        for (int a = 1; a < person.Addresses.Count; a++)
        {
            var address = person.Addresses[a];
            bool beforeNameChange = person.PreviousSurname is not null && address.StartedOn < person.NameChangedOn;
            previousSurnameUsed |= beforeNameChange;
            WriteRow(csv, row, 'H', beforeNameChange ? person.PreviousSurname! : person.Surname, person.Forename, address);
            historical++;
        }

        if (person.PreviousSurname is not null && !previousSurnameUsed)
        {
            WriteRow(csv, row, 'H', person.PreviousSurname, person.Forename, current);
            historical++;
        }

        if (person.HasShortForename)
        {
            WriteRow(csv, row, 'H', person.Surname, SyntheticNameLists.ShortForm(person.Forename), current);
            historical++;
        }

        return historical;
    }

    private static void WriteRow(Utf8CsvWriter csv, in RowContext row, char rowStatus, string surname, string forename, SyntheticAddress address)
    {
        var participant = row.Participant;
        var person = participant.Person;
        var p = participant.Permissions;
        csv.Field(participant.StudyId);
        csv.Field(rowStatus);
        csv.Field(person.NhsNumber);
        csv.Field(surname);
        csv.Field(forename);
        csv.Field(person.MiddleNames);
        csv.Field(address.Line1);
        csv.Field(address.Line2);
        csv.Field(address.Line3);
        csv.Field(address.Line4);
        csv.Field(address.Line5);
        csv.Field(address.Postcode);
        csv.Field(address.StartDate);
        csv.Field(address.EndDate);
        csv.Field(person.DateOfBirthText);
        csv.Field(person.Gender);
        csv.Field(row.CreateDate);
        csv.Field(row.Status.Active ? '1' : '0');
        csv.Field(row.Status.NhsEPermission ? '1' : '0');
        csv.Field(p.NhsDigitalStudyNumber);
        csv.Field(p.NhsS);
        csv.Field(p.NhsSStudyNumber);
        csv.Field(p.NhsW);
        csv.Field(p.NhsNi);
        csv.Field(p.NhsNiStudyNumber);
        csv.Field(p.Geocoding);
        csv.Field(p.SmallArea);
        csv.Field(p.Environment);
        csv.Field(p.PropertyLevel);
        csv.Field(p.MultipleBirth);
        csv.Field(row.NationalOptOut);
        csv.Field(p.Dfe);
        csv.Field(p.Dwp);
        csv.Field(p.Hmrc);
        csv.EndRow();
    }
}
