namespace Linkage.Synth;

/// <summary>What <c>linkage synth</c> generates. Same options (including <see cref="Seed"/>) ⇒ byte-identical output.</summary>
public sealed record SynthOptions
{
    public const int MaxPersons = SyntheticNhsNumbers.PersonCapacity - SyntheticNhsNumbers.OutsiderCapacity;

    public long Seed { get; init; } = 1;

    /// <summary>Study codes, one File 1 series each (configuration, not code: any code of capitals and digits).</summary>
    public IReadOnlyList<string> Studies { get; init; } = ["ALSPAC", "UKHLS", "BCS70"];

    /// <summary>The study on an s251 legal basis (National_Opt_Out=1); null means the last study.</summary>
    public string? S251Study { get; init; }

    /// <summary>Participants per study in the first quarter; later quarters add a few new ones.</summary>
    public int Participants { get; init; } = 1000;

    /// <summary>Rows in each File 2 dataset.</summary>
    public long File2Rows { get; init; } = 100_000;

    /// <summary>Rows in the London SDE Adult Social Care File 2; the Children Looked After File 2 gets half as many. Each has a patient per 4 rows.</summary>
    public long LondonSdeRows { get; init; } = 4000;

    public long LondonSdeClaRows => LondonSdeRows / 2;

    public int LondonSdeAscPatients => (int)Math.Max(1, LondonSdeRows / 4);

    public int LondonSdeClaPatients => (int)Math.Max(1, LondonSdeClaRows / 4);

    /// <summary>Quarterly File 1 versions per study (v1 … vN).</summary>
    public int Quarters { get; init; } = 2;

    public double MissingNhsShare { get; init; } = 0.05;

    public double InvalidNhsShare { get; init; } // 0 by default: synth File 1s pass the checker; set it to exercise rejection

    /// <summary>Share of participants in a later study that are also in the first study (same NHS number and DOB).</summary>
    public double CrossStudyShare { get; init; } = 0.05;

    /// <summary>CREATE_DATE of the first quarter's File 1s; each later quarter is three months on.</summary>
    public DateOnly FirstFileDate { get; init; } = new(2025, 12, 1);

    /// <summary>When set, File 2 keys come from this NHS Output CSV (column <see cref="NhsOutputCohort.PersonIdColumn"/>).</summary>
    public string? NhsOutputPath { get; init; }

    public string S251StudyCode => S251Study ?? Studies[^1];

    /// <summary>New participants joining each study in every quarter after the first.</summary>
    public int NewParticipantsPerQuarter => Math.Max(1, (int)Math.Ceiling(Participants * 0.02));

    /// <summary>Participants a study has in its File 1 for <paramref name="quarter"/> (1-based).</summary>
    public int ParticipantsInQuarter(int quarter) => Participants + ((quarter - 1) * NewParticipantsPerQuarter);

    public DateOnly FileDate(int quarter) => FirstFileDate.AddMonths(3 * (quarter - 1));

    /// <summary>Throws <see cref="SynthOptionsException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (Studies.Count == 0)
        {
            throw new SynthOptionsException("At least one study code is required.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string code in Studies)
        {
            if (!IsValidStudyCode(code))
            {
                throw new SynthOptionsException(
                    "Study codes must be 2 to 30 characters of capital letters, digits or underscores, starting with a letter.");
            }

            if (!seen.Add(code))
            {
                throw new SynthOptionsException("Each study code may be given only once.");
            }
        }

        if (S251Study is not null && !seen.Contains(S251Study))
        {
            throw new SynthOptionsException("The s251 study must be one of the studies.");
        }

        if (Participants < 1)
        {
            throw new SynthOptionsException("--participants must be at least 1.");
        }

        if (Quarters is < 1 or > 40)
        {
            throw new SynthOptionsException("--quarters must be between 1 and 40.");
        }

        if ((long)ParticipantsInQuarter(Quarters) * Studies.Count > MaxPersons)
        {
            throw new SynthOptionsException(
                $"Too many participants: studies x participants (with later joiners) must stay below {MaxPersons}.");
        }

        if (File2Rows < 0)
        {
            throw new SynthOptionsException("--file2-rows must not be negative.");
        }

        if (LondonSdeRows is < 0 or > 100_000_000)
        {
            throw new SynthOptionsException("--sde-rows must be between 0 and 100000000.");
        }

        if (MissingNhsShare is < 0 or > 1 || InvalidNhsShare is < 0 or > 1 || MissingNhsShare + InvalidNhsShare > 1)
        {
            throw new SynthOptionsException("The missing and invalid NHS number shares must be between 0 and 1 and add up to at most 1.");
        }

        if (CrossStudyShare is < 0 or > 1)
        {
            throw new SynthOptionsException("The cross-study share must be between 0 and 1.");
        }
    }

    private static bool IsValidStudyCode(string code)
    {
        if (code.Length is < 2 or > 30 || code[0] is < 'A' or > 'Z')
        {
            return false;
        }

        foreach (char c in code)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>An option for synthetic data generation is out of range.</summary>
public sealed class SynthOptionsException(string message) : ArgumentException(message);
