namespace Linkage.Synth;

/// <summary>
/// A HES admitted-patient-care-like episode dataset: one row per consultant episode, grouped into spells (admission to
/// discharge), with an ICD-10 primary diagnosis and an OPCS-4 main procedure ("-" when none), as HES writes them.
/// </summary>
public sealed class HesApcSynthesizer(ulong seed, DateOnly deliveredOn) : File2Synthesizer(seed, deliveredOn)
{
    public const string DatasetName = "nhse_hes_apc";

    private static readonly string[] Diagnoses =
    [
        "I219", "J189", "K359", "O800", "R074", "S720", "N390", "J440", "I639", "C509",
        "E119", "K802", "M170", "Z380", "R104", "F329", "A099", "I500", "L039", "H269",
    ];

    private static readonly string[] Operations =
    [
        "-", "W371", "H011", "C751", "K401", "Q073", "R182", "W401", "M451", "G451", "H221", "T201", "X292",
    ];

    private static readonly double[] OperationWeights = [35, 6, 6, 6, 5, 5, 8, 5, 5, 6, 5, 4, 4];

    private static readonly string[] AdmissionMethods = ["11", "12", "13", "21", "22", "23", "24", "28", "2A", "31", "81", "82"];

    private static readonly double[] AdmissionMethodWeights = [30, 4, 10, 35, 3, 4, 2, 5, 2, 3, 1, 1];

    private static readonly string[] Providers = ["RTH", "RRV", "RJ1", "R0A", "RX1", "RWE", "RBA", "RA7", "RTD", "RR8", "7A1", "7A3"];

    private long _nextEpisodeKey = 300_000_000_001;

    public override string Dataset => DatasetName;

    public override IReadOnlyList<string> Columns { get; } =
    [
        "cohortkey_e", "epikey", "admidate", "disdate", "epistart", "epiend", "diag_01", "opertn_01",
        "admimeth", "sex", "startage", "lsoa11cd", "procode",
    ];

    protected override void WritePerson(Utf8CsvWriter csv, File2Person person, File2PersonHistory history, SeededRandom random, long rows)
    {
        char sex = person.Sex is '1' or '2' ? person.Sex : (random.Chance(0.02) ? '9' : (random.Chance(0.5) ? '1' : '2'));
        int birthYear = person.BirthYear > 0 ? person.BirthYear : history.From.Year - random.Next(0, 80);
        long written = 0;
        while (written < rows)
        {
            DateOnly admitted = random.NextDate(history.From, history.To);
            int stay = random.Chance(0.35) ? 0 : 1 + (int)Math.Min(60, -Math.Log(1 - random.NextDouble()) * 5);
            DateOnly discharged = admitted.AddDays(stay);
            int episodes = (int)Math.Min(rows - written, 1 + random.PickWeighted([80, 15, 5]));
            string admissionMethod = AdmissionMethods[random.PickWeighted(AdmissionMethodWeights)];
            string provider = random.Pick(Providers);
            int lsoa = history.LsoaAt(admitted);
            DateOnly episodeStart = admitted;
            for (int e = 0; e < episodes; e++)
            {
                DateOnly episodeEnd = e == episodes - 1 ? discharged : random.NextDate(episodeStart, discharged);
                csv.Field(person.CohortKey);
                csv.Field(_nextEpisodeKey++);
                csv.IsoDate(admitted);
                csv.IsoDate(discharged);
                csv.IsoDate(episodeStart);
                csv.IsoDate(episodeEnd);
                csv.Field(random.Pick(Diagnoses));
                csv.Field(Operations[random.PickWeighted(OperationWeights)]);
                csv.Field(admissionMethod);
                csv.Field(sex);
                csv.Field(Math.Max(0, episodeStart.Year - birthYear));
                WriteLsoa(csv, lsoa);
                csv.Field(provider);
                csv.EndRow();
                episodeStart = episodeEnd;
            }

            written += episodes;
        }
    }
}
