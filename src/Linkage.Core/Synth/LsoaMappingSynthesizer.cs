namespace Linkage.Synth;

/// <summary>
/// NHS England's LSOA11 mappings dataset: where a person lived according to each health record source
/// (cohortkey_e, record_date, lsoa11cd, origin, avail_from_dt). About 1% of rows are exact duplicates, as in the real
/// feed, which File 2 intake must remove.
/// </summary>
public sealed class LsoaMappingSynthesizer(ulong seed, DateOnly deliveredOn) : File2Synthesizer(seed, deliveredOn)
{
    public const string DatasetName = "nhse_lsoa11_dataset_mapping";
    public const double DuplicateShare = 0.01;

    public static IReadOnlyList<string> Origins { get; } = ["HES APC", "HES A&E", "HES OP", "GDPPR"];

    private static readonly double[] OriginWeights = [20, 20, 20, 40];
    private long _duplicates;

    public override string Dataset => DatasetName;

    public override IReadOnlyList<string> Columns { get; } = ["cohortkey_e", "record_date", "lsoa11cd", "origin", "avail_from_dt"];

    protected override void WritePerson(Utf8CsvWriter csv, File2Person person, File2PersonHistory history, SeededRandom random, long rows)
    {
        DateOnly recordDate = default, availableFrom = default;
        int origin = 0;
        for (long r = 0; r < rows; r++)
        {
            if (r == 0 || !random.Chance(DuplicateShare))
            {
                recordDate = random.NextDate(history.From, history.To);
                origin = random.PickWeighted(OriginWeights);
                int lag = origin == 3 ? random.Next(7, 31) : random.Next(30, 121); // GDPPR extracts are fresher
                availableFrom = recordDate.AddDays(lag);
                if (availableFrom > DeliveredOn)
                {
                    availableFrom = DeliveredOn;
                }
            }
            else
            {
                _duplicates++;
            }

            csv.Field(person.CohortKey);
            csv.IsoDate(recordDate);
            WriteLsoa(csv, history.LsoaAt(recordDate));
            csv.Field(Origins[origin]);
            csv.IsoDate(availableFrom);
            csv.EndRow();
        }
    }

    protected override void AddCounts(SynthFileRecord record) => record.Count("duplicateRows", _duplicates);
}
