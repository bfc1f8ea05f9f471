namespace Linkage.Synth;

/// <summary>
/// A place-based deprivation table over every LSOA code in <see cref="LsoaCodes"/>: columns lsoa11cd, imd_decile (the
/// reference dataset spec config/datasets/imd2019_lsoa11.json). Deciles follow from a seeded rank permutation within
/// each nation (1 = most deprived), but the rank itself is not written: it is unique per LSOA, so next to the public
/// IMD file it would decrypt every encrypted LSOA (decision 0514).
/// </summary>
public sealed class ImdTableSynthesizer(ulong seed)
{
    public const string FileName = "imd2019_lsoa11.csv";

    public static IReadOnlyList<string> Columns { get; } = ["lsoa11cd", "imd_decile"];

    public long Write(Stream output)
    {
        var random = SeededRandom.For(seed, 0x1D0);
        int[] englandRanks = Permutation(random, LsoaCodes.EnglandCount);
        int[] walesRanks = Permutation(random, LsoaCodes.WalesCount);
        using var csv = new Utf8CsvWriter(output, leaveOpen: true);
        csv.Header(Columns);
        Span<char> code = stackalloc char[LsoaCodes.CodeLength];
        for (int i = 0; i < LsoaCodes.Count; i++)
        {
            bool england = LsoaCodes.IsEngland(i);
            int rank = england ? englandRanks[i] : walesRanks[i - LsoaCodes.EnglandCount];
            int count = england ? LsoaCodes.EnglandCount : LsoaCodes.WalesCount;
            LsoaCodes.Format(i, code);
            csv.Field(code);
            csv.Field((((long)rank * 10) + count - 1) / count); // ceil(rank * 10 / count)
            csv.EndRow();
        }

        csv.Flush();
        return csv.Rows;
    }

    private static int[] Permutation(SeededRandom random, int count)
    {
        var ranks = new int[count];
        for (int i = 0; i < count; i++)
        {
            ranks[i] = i + 1;
        }

        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (ranks[i], ranks[j]) = (ranks[j], ranks[i]);
        }

        return ranks;
    }
}
