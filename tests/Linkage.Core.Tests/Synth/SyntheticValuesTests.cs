using Linkage.File1;
using Linkage.Synth;

namespace Linkage.Core.Tests.Synth;

public sealed class SyntheticValuesTests
{
    [Fact]
    public void Synthetic_nhs_numbers_are_valid_unique_and_start_with_9()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (long p = 0; p < 200_000; p++)
        {
            string nhs = SyntheticNhsNumbers.Valid(42, p);
            Assert.True(NhsNumber.IsValid(nhs));
            Assert.Equal('9', nhs[0]);
            Assert.True(seen.Add(nhs), "no two persons share a number");
        }
    }

    [Fact]
    public void Deliberately_invalid_nhs_numbers_fail_only_the_check_digit()
    {
        for (long p = 0; p < 20_000; p++)
        {
            string invalid = SyntheticNhsNumbers.Invalid(42, p);
            Assert.Equal(10, invalid.Length);
            Assert.True(NhsNumber.IsAllDigits(invalid));
            Assert.False(NhsNumber.IsValid(invalid));
            Assert.Equal(SyntheticNhsNumbers.Valid(42, p)[..9], invalid[..9]);
        }
    }

    [Fact]
    public void Postcodes_have_valid_shapes_and_cover_all_six()
    {
        var random = new SeededRandom(3);
        var shapes = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 5000; i++)
        {
            string postcode = SyntheticPostcodes.Next(random);
            Assert.True(SyntheticPostcodes.HasValidShape(postcode));
            Assert.True(UkPostcode.IsWellFormed(postcode));
            shapes.Add(string.Concat(postcode.Select(c => char.IsLetter(c) ? 'A' : char.IsDigit(c) ? '9' : c)));
        }

        Assert.Equal(6, shapes.Count);
    }

    [Fact]
    public void Lsoa_codes_cover_the_valid_2011_ranges()
    {
        Assert.Equal("E01000001", LsoaCodes.CodeAt(0));
        Assert.Equal("E01033768", LsoaCodes.CodeAt(LsoaCodes.EnglandCount - 1));
        Assert.Equal("W01000001", LsoaCodes.CodeAt(LsoaCodes.EnglandCount));
        Assert.Equal("W01001909", LsoaCodes.CodeAt(LsoaCodes.Count - 1));
        Assert.True(LsoaCodes.IsValid("W01001909"));
        Assert.False(LsoaCodes.IsValid("W01001910"));
        Assert.False(LsoaCodes.IsValid("E01033769"));
        Assert.False(LsoaCodes.IsValid("S01000001"));
        Assert.Throws<ArgumentOutOfRangeException>(() => LsoaCodes.CodeAt(LsoaCodes.Count));
    }

    [Fact]
    public void Seeded_random_is_stable_across_runtimes()
    {
        // Reference xoshiro256** seeded by SplitMix64(1), computed independently (Python port of the reference C).
        // If these change, every "same seed ⇒ same bytes" promise made to users breaks.
        var random = new SeededRandom(1);
        Assert.Equal(12966619160104079557UL, random.NextUInt64());
        Assert.Equal(9600361134598540522UL, random.NextUInt64());
        Assert.Equal(10590380919521690900UL, random.NextUInt64());
        Assert.NotEqual(new SeededRandom(1).NextUInt64(), new SeededRandom(2).NextUInt64());
    }

    [Fact]
    public void Csv_writer_quotes_only_when_needed()
    {
        using var buffer = new MemoryStream();
        using (var csv = new Utf8CsvWriter(buffer, leaveOpen: true))
        {
            csv.Field("plain");
            csv.Field("a,b");
            csv.Field("say \"hi\"");
            csv.Field('x');
            csv.Field(-12);
            csv.IsoDate(new DateOnly(2024, 2, 9));
            csv.Field("Zoë");
            csv.EndRow();
        }

        Assert.Equal("plain,\"a,b\",\"say \"\"hi\"\"\",x,-12,2024-02-09,Zoë\n", System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    [Theory]
    [InlineData(0, 0.05, 0.01, "participants")]
    [InlineData(10, 0.8, 0.3, "shares")]
    [InlineData(10, -0.1, 0, "shares")]
    public void Options_out_of_range_are_refused(int participants, double missing, double invalid, string what)
    {
        var options = new SynthOptions { Participants = participants, MissingNhsShare = missing, InvalidNhsShare = invalid };
        var ex = Assert.Throws<SynthOptionsException>(options.Validate);
        Assert.Contains(what, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("../ETC")]
    [InlineData("alspac")]
    [InlineData("A")]
    public void Study_codes_that_could_escape_the_output_folder_or_break_names_are_refused(string code)
    {
        Assert.Throws<SynthOptionsException>(new SynthOptions { Studies = [code] }.Validate);
    }

    [Fact]
    public void Too_many_people_for_the_synthetic_nhs_number_range_are_refused()
    {
        Assert.Throws<SynthOptionsException>(new SynthOptions { Participants = 4_000_000 }.Validate);
    }
}
