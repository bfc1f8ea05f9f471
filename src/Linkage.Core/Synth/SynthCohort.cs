namespace Linkage.Synth;

/// <summary>
/// The synthetic population. Every person and participant is a pure function of (seed, study, index), so files are
/// written one participant at a time without holding the cohort in memory, and any file can be regenerated alone.
/// </summary>
public sealed class SynthCohort
{
    private const ulong ParticipantStream = 2;
    private const ulong QuarterStream = 3;
    private const ulong OptOutStream = 4;
    private const ulong CrossStudyStream = 5;

    private const double WithdrawalRate = 0.02;
    private const double NhsEOptOutRate = 0.03;
    private const double NhsEOptInRate = 0.15;
    private const double S251NationalOptOutShare = 0.10;
    private const double OtherNationalOptOutShare = 0.03;

    private readonly SynthOptions _options;
    private readonly ulong _seed;
    private readonly int _s251StudyIndex;
    private readonly SyntheticPersonFactory _persons;

    public SynthCohort(SynthOptions options)
    {
        options.Validate();
        _options = options;
        _seed = unchecked((ulong)options.Seed);
        _s251StudyIndex = IndexOfStudy(options.S251StudyCode);
        _persons = new SyntheticPersonFactory(options, _seed);
    }

    public SynthOptions Options => _options;

    public ulong Seed => _seed;

    public int StudyCount => _options.Studies.Count;

    public int S251StudyIndex => _s251StudyIndex;

    public int IndexOfStudy(string code)
    {
        for (int i = 0; i < _options.Studies.Count; i++)
        {
            if (string.Equals(_options.Studies[i], code, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new SynthOptionsException("Unknown study code.");
    }

    /// <summary>Persons are numbered index × studies + study, so every (study, index) has its own person number.</summary>
    public long PersonNumberOf(int study, int index) => ((long)index * StudyCount) + study;

    public int JoinQuarterOf(int index) =>
        index < _options.Participants ? 1 : 2 + ((index - _options.Participants) / _options.NewParticipantsPerQuarter);

    public SyntheticParticipant Participant(int study, int index)
    {
        bool crossStudy = IsCrossStudy(study, index);
        long personNumber = crossStudy ? PersonNumberOf(0, index) : PersonNumberOf(study, index);
        var random = SeededRandom.For(_seed, ParticipantStream, (ulong)study, (ulong)index);
        return new SyntheticParticipant
        {
            StudyIndex = study,
            StudyCode = _options.Studies[study],
            Index = index,
            StudyId = StudyIdOf(study, index),
            Person = Person(personNumber),
            IsCrossStudy = crossStudy,
            JoinQuarter = JoinQuarterOf(index),
            Permissions = DrawPermissions(random),
        };
    }

    /// <summary>The participant's STUDY_ID: three letters of the study code and a permuted 8-digit number (unique).</summary>
    public string StudyIdOf(int study, int index)
    {
        string code = _options.Studies[study];
        string prefix = code.Length >= 3 ? code[..3] : code;
        long offset = (long)(SeededRandom.Derive(_seed, 0x51, (ulong)study) % 100_000_000UL);
        long number = (((long)index * 48_271_043L) + offset) % 100_000_000L; // multiplier coprime to 10^8
        return string.Create(prefix.Length + 8, (prefix, number), static (span, state) =>
        {
            state.prefix.AsSpan().CopyTo(span);
            long n = state.number;
            for (int i = span.Length - 1; i >= state.prefix.Length; i--)
            {
                span[i] = (char)('0' + (n % 10));
                n /= 10;
            }
        });
    }

    /// <summary>UKLLC status and NHS England permission in the File 1 of <paramref name="quarter"/>.</summary>
    public ParticipantStatus StatusAt(SyntheticParticipant participant, int quarter)
    {
        bool active = true;
        bool nhsE = participant.Permissions.NhsE == '1';
        for (int q = participant.JoinQuarter + 1; q <= quarter; q++)
        {
            if (!active)
            {
                break;
            }

            var random = SeededRandom.For(_seed, QuarterStream, (ulong)participant.StudyIndex, (ulong)participant.Index, (ulong)q);
            if (random.Chance(WithdrawalRate))
            {
                active = false;
            }
            else if (nhsE ? random.Chance(NhsEOptOutRate) : random.Chance(NhsEOptInRate))
            {
                nhsE = !nhsE;
            }
        }

        return new ParticipantStatus(active, nhsE);
    }

    /// <summary>True when the person's (valid) NHS number is on the national data opt-out list.</summary>
    public bool IsNationallyOptedOut(SyntheticPerson person)
    {
        if (person.NhsKind != NhsNumberKind.Valid)
        {
            return false;
        }

        int homeStudy = (int)(person.PersonNumber % StudyCount);
        double share = homeStudy == _s251StudyIndex ? S251NationalOptOutShare : OtherNationalOptOutShare;
        return SeededRandom.For(_seed, OptOutStream, (ulong)person.PersonNumber).Chance(share);
    }

    /// <summary>
    /// Whether NHS England would hold the participant in the NHS Output of the last quarter, and so send File 2 records:
    /// active, NHS_E permission, and for the s251 study not on the national data opt-out list.
    /// </summary>
    public bool IsInNhsOutput(SyntheticParticipant participant)
    {
        var status = StatusAt(participant, _options.Quarters);
        return status.Active && status.NhsEPermission
            && !(participant.StudyIndex == _s251StudyIndex && IsNationallyOptedOut(participant.Person));
    }

    /// <summary>NHS numbers on the national opt-out list of people who are in no study.</summary>
    public int OutsiderOptOutCount => Math.Max(10, _options.Participants / 10);

    public string OutsiderNhsNumber(int k) =>
        SyntheticNhsNumbers.Valid(_seed, SyntheticNhsNumbers.PersonCapacity - SyntheticNhsNumbers.OutsiderCapacity + k);

    public SyntheticPerson Person(long personNumber) => _persons.Create(personNumber);

    private bool IsCrossStudy(int study, int index)
    {
        if (study == 0 || index >= _options.Participants)
        {
            return false;
        }

        if (!SeededRandom.For(_seed, CrossStudyStream, (ulong)study, (ulong)index).Chance(_options.CrossStudyShare))
        {
            return false;
        }

        // Cross-study links need something to link on: only people with a valid NHS number and a known DOB are shared.
        var shared = Person(PersonNumberOf(0, index));
        return shared.NhsKind == NhsNumberKind.Valid && shared.DateOfBirth is not null;
    }

    private static SyntheticPermissions DrawPermissions(SeededRandom random)
    {
        static char Flag(SeededRandom r, double p) => r.Chance(p) ? '1' : '0';
        return new SyntheticPermissions(
            NhsE: Flag(random, 0.9),
            NhsDigitalStudyNumber: random.Chance(0.8) ? "9" : "NHSD" + random.Next(100_000, 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            NhsS: Flag(random, 0.7),
            NhsSStudyNumber: "9",
            NhsW: Flag(random, 0.75),
            NhsNi: Flag(random, 0.6),
            NhsNiStudyNumber: "9",
            Geocoding: "210"[random.PickWeighted([70, 20, 10])],
            SmallArea: Flag(random, 0.85),
            Environment: Flag(random, 0.8),
            PropertyLevel: Flag(random, 0.7),
            MultipleBirth: "019"[random.PickWeighted([96, 2, 2])],
            Dfe: Flag(random, 0.6),
            Dwp: Flag(random, 0.55),
            Hmrc: Flag(random, 0.5));
    }
}
