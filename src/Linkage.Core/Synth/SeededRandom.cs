namespace Linkage.Synth;

/// <summary>
/// xoshiro256** seeded through SplitMix64. Own implementation rather than <see cref="Random"/> because the output must
/// stay byte-identical for a given seed across .NET versions, and System.Random's seeded algorithm is not guaranteed.
/// </summary>
public sealed class SeededRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SeededRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>An independent stream for one purpose (<paramref name="stream"/>) and one entity (the keys).</summary>
    public static SeededRandom For(ulong seed, ulong stream, ulong key1 = 0, ulong key2 = 0, ulong key3 = 0) =>
        new(Derive(seed, stream, key1, key2, key3));

    /// <summary>A well-mixed 64-bit value from the inputs; the same inputs always give the same value.</summary>
    public static ulong Derive(ulong seed, ulong stream, ulong key1 = 0, ulong key2 = 0, ulong key3 = 0)
    {
        ulong h = Mix(seed ^ 0x6A09E667F3BCC908UL);
        h = Mix(h ^ stream);
        h = Mix(h ^ key1);
        h = Mix(h ^ key2);
        return Mix(h ^ key3);
    }

    /// <summary>FNV-1a over the characters, for keying streams by a string such as a person token.</summary>
    public static ulong HashOf(ReadOnlySpan<char> text)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in text)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return Mix(h);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>) (Lemire's multiply-shift, bias below 2^-32).</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), "The upper bound must be positive.");
        }

        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Index drawn with the given relative weights.</summary>
    public int PickWeighted(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (double w in weights)
        {
            total += w;
        }

        double r = NextDouble() * total;
        for (int i = 0; i < weights.Length; i++)
        {
            r -= weights[i];
            if (r < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    /// <summary>A day uniformly between two dates, both included.</summary>
    public DateOnly NextDate(DateOnly from, DateOnly to) =>
        to <= from ? from : from.AddDays(Next(to.DayNumber - from.DayNumber + 1));

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
