namespace Linkage.Synth;

/// <summary>UK-shaped postcodes in all six outward shapes, using the letters each position allows.</summary>
public static class SyntheticPostcodes
{
    /// <summary>The six shapes (A letter, 9 digit), in the order of <see cref="ShapeWeights"/>.</summary>
    public static IReadOnlyList<string> Shapes { get; } = ["A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA"];

    private static readonly double[] ShapeWeights = [10, 10, 35, 30, 7.5, 7.5];
    private const string FirstLetters = "ABCDEFGHIJKLMNOPRSTUWYZ";  // no Q, V, X
    private const string SecondLetters = "ABCDEFGHKLMNOPQRSTUVWXY"; // no I, J, Z
    private const string ThirdLetters = "ABCDEFGHJKPSTUW";          // A9A shape
    private const string FourthLetters = "ABEHMNPRVWXY";            // AA9A shape
    private const string InwardLetters = "ABDEFGHJLNPQRSTUWXYZ";    // no C, I, K, M, O, V

    public static string Next(SeededRandom random)
    {
        string shape = Shapes[random.PickWeighted(ShapeWeights)];
        Span<char> chars = stackalloc char[shape.Length];
        int letterIndex = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            char s = shape[i];
            bool inward = i > shape.IndexOf(' ', StringComparison.Ordinal);
            chars[i] = s switch
            {
                ' ' => ' ',
                '9' when !inward && i == 1 && shape.Length == 6 => (char)('1' + random.Next(9)),
                '9' => (char)('0' + random.Next(10)),
                _ when inward => InwardLetters[random.Next(InwardLetters.Length)],
                _ => OutwardLetter(random, letterIndex++, i),
            };
        }

        return new string(chars);
    }

    /// <summary>True when <paramref name="postcode"/> has one of the six shapes (letters and digits by position).</summary>
    public static bool HasValidShape(string postcode)
    {
        foreach (string shape in Shapes)
        {
            if (shape.Length != postcode.Length)
            {
                continue;
            }

            bool match = true;
            for (int i = 0; i < shape.Length && match; i++)
            {
                match = shape[i] switch
                {
                    'A' => postcode[i] is >= 'A' and <= 'Z',
                    '9' => postcode[i] is >= '0' and <= '9',
                    _ => postcode[i] == shape[i],
                };
            }

            if (match)
            {
                return true;
            }
        }

        return false;
    }

    private static char OutwardLetter(SeededRandom random, int letterIndex, int position) => (letterIndex, position) switch
    {
        (0, _) => FirstLetters[random.Next(FirstLetters.Length)],
        (1, 1) => SecondLetters[random.Next(SecondLetters.Length)],
        (1, 2) => ThirdLetters[random.Next(ThirdLetters.Length)],   // A9A
        _ => FourthLetters[random.Next(FourthLetters.Length)],      // AA9A
    };
}
