namespace Linkage.Synth;

/// <summary>
/// Where a File 2 person lived over time (1–3 LSOAs, moving nearby), keyed by their id so both File 2 datasets
/// agree on it. LSOAs are indices into <see cref="LsoaCodes"/>.
/// </summary>
public sealed class File2PersonHistory
{
    private readonly int[] _lsoas;
    private readonly DateOnly[] _movedOn;

    public File2PersonHistory(ulong seed, File2Person person, DateOnly from, DateOnly to)
    {
        var random = SeededRandom.For(seed, 0x2B, SeededRandom.HashOf(person.CohortKey));
        int count = 1 + random.PickWeighted([60, 30, 10]);
        _lsoas = new int[count];
        _movedOn = new DateOnly[count];
        bool wales = random.Chance(0.05);
        int first = wales ? LsoaCodes.EnglandCount : 0;
        int size = wales ? LsoaCodes.WalesCount : LsoaCodes.EnglandCount;
        int home = random.Next(size);
        _lsoas[0] = first + home;
        _movedOn[0] = from;
        for (int i = 1; i < count; i++)
        {
            home = Math.Clamp(home + random.Next(-300, 301), 0, size - 1);
            _lsoas[i] = first + home;
            _movedOn[i] = random.NextDate(_movedOn[i - 1].AddDays(1), to);
        }

        Array.Sort(_movedOn);
        From = from;
        To = to;
    }

    public DateOnly From { get; }

    public DateOnly To { get; }

    public int LsoaAt(DateOnly date)
    {
        int index = 0;
        for (int i = 1; i < _movedOn.Length && _movedOn[i] <= date; i++)
        {
            index = i;
        }

        return _lsoas[index];
    }

    /// <summary>The period File 2 records cover for a person: from 2005 or birth until shortly before delivery.</summary>
    public static (DateOnly From, DateOnly To) PeriodFor(File2Person person, DateOnly deliveredOn)
    {
        var from = new DateOnly(Math.Max(2005, person.BirthYear), 1, 1);
        var to = deliveredOn.AddDays(-60);
        return from > to ? (to, to) : (from, to);
    }
}
