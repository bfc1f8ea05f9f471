namespace Linkage.Synth;

/// <summary>
/// The national data opt-out list: header NHS_NUMBER, one valid NHS number per line. It holds about a tenth of the s251
/// study's participants, a few per cent of the other studies' (where it must have no effect) and people in no study.
/// </summary>
public sealed class OptOutListSynthesizer(SynthCohort cohort)
{
    public const string FileName = "national_opt_out.csv";
    public const string Column = "NHS_NUMBER";

    public void Write(Stream output, SynthFileRecord record, CancellationToken ct)
    {
        int participants = cohort.Options.ParticipantsInQuarter(cohort.Options.Quarters);
        long s251Overlap = 0;
        using var csv = new Utf8CsvWriter(output, leaveOpen: true);
        csv.Header([Column]);
        for (int study = 0; study < cohort.StudyCount; study++)
        {
            for (int i = 0; i < participants; i++)
            {
                if ((i & 1023) == 0)
                {
                    ct.ThrowIfCancellationRequested();
                }

                var participant = cohort.Participant(study, i);
                if (!cohort.IsNationallyOptedOut(participant.Person))
                {
                    continue;
                }

                s251Overlap += study == cohort.S251StudyIndex ? 1 : 0;

                // A cross-study person is the first study's participant too: list their number once, from there.
                if (!participant.IsCrossStudy)
                {
                    csv.Field(participant.Person.NhsNumber);
                    csv.EndRow();
                }
            }
        }

        long listed = csv.Rows;
        for (int k = 0; k < cohort.OutsiderOptOutCount; k++)
        {
            csv.Field(cohort.OutsiderNhsNumber(k));
            csv.EndRow();
        }

        csv.Flush();
        record.Rows = csv.Rows;
        record.Count("studyParticipants", listed)
            .Count("s251StudyParticipants", s251Overlap)
            .Count("inNoStudy", cohort.OutsiderOptOutCount);
    }
}
