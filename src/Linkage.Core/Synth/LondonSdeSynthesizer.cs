namespace Linkage.Synth;

/// <summary>
/// A London SDE File 2 (seeds 002, 003): rows keyed by a synthetic SDE unique patient key, <c>LDN</c> and ten digits
/// (13 characters: within the 15 bytes of the <c>sde-patient-key</c> scheme, with letters, so never NHS-number shaped,
/// and too long to be postcode shaped). The SDE population is its own: these people are not the UK LLC cohort.
/// Rows are spread evenly over the patients and streamed; about 1% are exact duplicates, which curation removes.
/// </summary>
public abstract class LondonSdeSynthesizer(ulong seed, DateOnly deliveredOn)
{
    public const string KeyPrefix = "LDN";
    public const double DuplicateShare = 0.01;
    private const long KeySpace = 10_000_000_000;

    // Odd and not a multiple of 5, so i → (i * m + offset) mod 10^10 is a bijection: distinct patients, distinct keys.
    private const long KeyMultiplier = 7_919_000_003;

    private long _duplicates;

    /// <summary>The dataset's folder and file-name stem (its dataset spec's datasetId).</summary>
    public abstract string Dataset { get; }

    public abstract IReadOnlyList<string> Columns { get; }

    /// <summary>Index of this dataset's first patient, so the two SDE datasets draw distinct people.</summary>
    protected abstract long FirstPatient { get; }

    public DateOnly DeliveredOn => deliveredOn;

    public string FileName => $"{Dataset}_{DateText.Compact(deliveredOn)}.csv";

    /// <summary>The synthetic SDE patient key of patient <paramref name="index"/> under <paramref name="seed"/>.</summary>
    public static string PatientKey(ulong seed, long index)
    {
        long offset = (long)(SeededRandom.Derive(seed, 0x5DE) % KeySpace);
        long number = (long)(((UInt128)(ulong)index * KeyMultiplier + (ulong)offset) % KeySpace);
        return KeyPrefix + number.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Writes exactly <paramref name="rows"/> rows over <paramref name="patients"/> patients.</summary>
    public void Write(int patients, long rows, Stream output, SynthFileRecord record, Action<long>? rowsWritten, CancellationToken ct)
    {
        using var csv = new Utf8CsvWriter(output, leaveOpen: true);
        csv.Header(Columns);
        long allocated = 0;
        long withRows = 0;
        for (int p = 0; p < patients && rows > 0; p++)
        {
            long target = rows * (p + 1) / patients;
            long count = target - allocated;
            allocated = target;
            if (count <= 0)
            {
                continue;
            }

            withRows++;
            string key = PatientKey(seed, FirstPatient + p);
            var random = SeededRandom.For(seed, 0x5DF, SeededRandom.HashOf(Dataset), (ulong)p);
            bool first = true;
            for (long r = 0; r < count; r++)
            {
                bool duplicate = !first && random.Chance(DuplicateShare);
                if (duplicate)
                {
                    _duplicates++;
                }

                WriteRow(csv, key, random, repeatPrevious: duplicate);
                csv.EndRow();
                first = false;
            }

            if ((p & 255) == 0)
            {
                ct.ThrowIfCancellationRequested();
                rowsWritten?.Invoke(csv.Rows);
            }
        }

        csv.Flush();
        rowsWritten?.Invoke(csv.Rows);
        record.Rows = csv.Rows;
        record.Count("patients", withRows).Count("duplicateRows", _duplicates);
    }

    /// <summary>Writes one row's fields for <paramref name="key"/>; when <paramref name="repeatPrevious"/>, the previous row's values again.</summary>
    protected abstract void WriteRow(Utf8CsvWriter csv, string key, SeededRandom random, bool repeatPrevious);
}

/// <summary>London SDE Adult Social Care client-level data (seed 002): care package start/end dates, allocated team, service description.</summary>
public sealed class LondonSdeAscCldSynthesizer(ulong seed, DateOnly deliveredOn) : LondonSdeSynthesizer(seed, deliveredOn)
{
    public const string DatasetName = "london_sde_asc_cld";

    /// <summary>Seed 002's start date.</summary>
    public static readonly DateOnly StartDate = new(2023, 3, 31);

    public static IReadOnlyList<string> Teams { get; } =
    [
        "Hillingdon Reablement Team", "Hillingdon Learning Disabilities Team", "Kensington and Chelsea Adult Social Care North",
        "Kensington and Chelsea Hospital Discharge Team", "Westminster Long Term Support Team", "Westminster Occupational Therapy",
    ];

    public static IReadOnlyList<string> Services { get; } =
    [
        "Home care", "Residential care", "Nursing care", "Day care", "Direct payment", "Supported living", "Reablement",
        "Equipment and adaptations",
    ];

    private DateOnly _start;
    private DateOnly? _end;
    private int _team;
    private int _service;

    public override string Dataset => DatasetName;

    public override IReadOnlyList<string> Columns { get; } = ["patient_key", "care_package_start_date", "care_package_end_date", "allocated_team", "service_description"];

    protected override long FirstPatient => 0;

    protected override void WriteRow(Utf8CsvWriter csv, string key, SeededRandom random, bool repeatPrevious)
    {
        if (!repeatPrevious)
        {
            DateOnly last = DeliveredOn.AddDays(-30);
            _start = random.NextDate(StartDate, last < StartDate ? StartDate : last);
            DateOnly end = _start.AddDays(random.Next(7, 400));
            _end = random.Chance(0.3) || end > last ? null : end; // open packages have no end date
            _team = random.Next(Teams.Count);
            _service = random.Next(Services.Count);
        }

        csv.Field(key);
        csv.IsoDate(_start);
        if (_end is { } e)
        {
            csv.IsoDate(e);
        }
        else
        {
            csv.Field([]);
        }

        csv.Field(Teams[_team]);
        csv.Field(Services[_service]);
    }
}

/// <summary>London SDE Children Looked After (seed 003): activity month, local authority, activity type (all assumed but the key).</summary>
public sealed class LondonSdeClaSynthesizer(ulong seed, DateOnly deliveredOn, long firstPatient) : LondonSdeSynthesizer(seed, deliveredOn)
{
    public const string DatasetName = "london_sde_cla";

    /// <summary>Seed 003's coverage.</summary>
    public static readonly DateOnly StartDate = new(2018, 4, 1);

    public static readonly DateOnly EndDate = new(2023, 3, 31);

    /// <summary>ONS codes of seed 003's local authorities: Kensington and Chelsea, Westminster, Harrow.</summary>
    public static IReadOnlyList<string> LocalAuthorities { get; } = ["E09000020", "E09000033", "E09000015"];

    public static IReadOnlyList<string> ActivityTypes { get; } =
    [
        "Placement start", "Placement end", "Review", "Health assessment", "Dental check", "Strengths and difficulties questionnaire",
    ];

    private DateOnly _date;
    private int _authority = -1;
    private int _activity;

    public override string Dataset => DatasetName;

    public override IReadOnlyList<string> Columns { get; } = ["patient_key", "activity_date", "local_authority", "activity_type"];

    protected override long FirstPatient => firstPatient;

    protected override void WriteRow(Utf8CsvWriter csv, string key, SeededRandom random, bool repeatPrevious)
    {
        if (!repeatPrevious)
        {
            _date = random.NextDate(StartDate, EndDate);
            _authority = random.Next(LocalAuthorities.Count);
            _activity = random.Next(ActivityTypes.Count);
        }

        csv.Field(key);
        csv.IsoDate(_date);
        csv.Field(LocalAuthorities[_authority]);
        csv.Field(ActivityTypes[_activity]);
    }
}
