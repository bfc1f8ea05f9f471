namespace Linkage.Synth;

/// <summary>
/// Writes a File 2 dataset with exactly the requested number of rows spread over the cohort: a first pass sums each
/// person's seeded weight, the second hands out rows by cumulative share, so memory stays flat however big the cohort.
/// </summary>
public abstract class File2Synthesizer(ulong seed, DateOnly deliveredOn)
{
    /// <summary>The dataset's folder and file-name stem, e.g. <c>nhse_lsoa11_dataset_mapping</c>.</summary>
    public abstract string Dataset { get; }

    public abstract IReadOnlyList<string> Columns { get; }

    public ulong Seed => seed;

    public DateOnly DeliveredOn => deliveredOn;

    public string FileName => $"{Dataset}_{DateText.Compact(deliveredOn)}.csv";

    public void Write(IFile2Cohort cohort, long rows, Stream output, SynthFileRecord record, Action<long>? rowsWritten, CancellationToken ct)
    {
        ulong datasetKey = SeededRandom.HashOf(Dataset);
        double totalWeight = 0;
        long people = 0;
        foreach (var person in cohort.People(ct))
        {
            totalWeight += WeightOf(person, datasetKey);
            people++;
        }

        using var csv = new Utf8CsvWriter(output, leaveOpen: true);
        csv.Header(Columns);
        long peopleWithRows = 0;
        if (people > 0 && rows > 0)
        {
            double cumulative = 0;
            long allocated = 0;
            foreach (var person in cohort.People(ct))
            {
                cumulative += WeightOf(person, datasetKey);
                long target = Math.Min(rows, (long)Math.Round(rows * (cumulative / totalWeight)));
                long count = target - allocated;
                allocated = target;
                if (count <= 0)
                {
                    continue;
                }

                peopleWithRows++;
                var random = SeededRandom.For(seed, 0x2C, SeededRandom.HashOf(person.CohortKey), datasetKey);
                var (from, to) = File2PersonHistory.PeriodFor(person, deliveredOn);
                WritePerson(csv, person, new File2PersonHistory(seed, person, from, to), random, count);
                if ((peopleWithRows & 255) == 0)
                {
                    ct.ThrowIfCancellationRequested();
                    rowsWritten?.Invoke(csv.Rows);
                }
            }

            // Same additions in the same order as the first pass, so the last share is exactly 1 and every row is placed.
            if (allocated != rows)
            {
                throw new InvalidOperationException("File 2 row allocation fell short of the requested total.");
            }
        }

        csv.Flush();
        rowsWritten?.Invoke(csv.Rows);
        record.Rows = csv.Rows;
        record.Count("peopleInCohort", people).Count("peopleWithRows", peopleWithRows);
        AddCounts(record);
    }

    /// <summary>Writes exactly <paramref name="rows"/> rows for one person.</summary>
    protected abstract void WritePerson(Utf8CsvWriter csv, File2Person person, File2PersonHistory history, SeededRandom random, long rows);

    protected virtual void AddCounts(SynthFileRecord record)
    {
    }

    /// <summary>Skewed weights (a few people have many records), fixed per person and dataset.</summary>
    private double WeightOf(File2Person person, ulong datasetKey)
    {
        double u = SeededRandom.For(seed, 0x2A, SeededRandom.HashOf(person.CohortKey), datasetKey).NextDouble();
        return 0.25 - Math.Log(1 - u);
    }

    protected static void WriteLsoa(Utf8CsvWriter csv, int lsoaIndex)
    {
        Span<char> code = stackalloc char[LsoaCodes.CodeLength];
        LsoaCodes.Format(lsoaIndex, code);
        csv.Field(code);
    }
}
