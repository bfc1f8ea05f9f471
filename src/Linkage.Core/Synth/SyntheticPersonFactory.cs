using System.Globalization;

namespace Linkage.Synth;

/// <summary>
/// Draws a synthetic person (identity, names, date of birth, address history) from their person number alone, so the
/// same person comes out identically in every study and quarter they appear in.
/// </summary>
public sealed class SyntheticPersonFactory(SynthOptions options, ulong seed)
{
    private const ulong PersonStream = 1;

    public SyntheticPerson Create(long personNumber)
    {
        var random = SeededRandom.For(seed, PersonStream, (ulong)personNumber);
        int homeStudy = (int)(personNumber % options.Studies.Count);

        double r = random.NextDouble();
        NhsNumberKind kind = r < options.MissingNhsShare ? NhsNumberKind.Missing
            : r < options.MissingNhsShare + options.InvalidNhsShare ? NhsNumberKind.Invalid
            : NhsNumberKind.Valid;
        string nhs = kind switch
        {
            NhsNumberKind.Valid => SyntheticNhsNumbers.Valid(seed, personNumber),
            NhsNumberKind.Invalid => SyntheticNhsNumbers.Invalid(seed, personNumber),
            _ => string.Empty,
        };

        char gender = "12789"[random.PickWeighted([48.5, 49.5, 0.5, 0.5, 1.0])];
        bool female = gender == '2' || (gender != '1' && random.Chance(0.5));
        var forenames = female ? SyntheticNameLists.FemaleForenames : SyntheticNameLists.MaleForenames;
        string forename = random.Pick(forenames);
        string surname = random.Pick(SyntheticNameLists.Surnames);
        int middleCount = random.PickWeighted([50, 40, 10]);
        string middle = middleCount switch
        {
            0 => string.Empty,
            1 => random.Pick(forenames),
            _ => random.Pick(forenames) + " " + random.Pick(forenames),
        };

        var (from, to) = StudyBirthRanges.For(options.Studies[homeStudy]);
        DateOnly dob = random.NextDate(from, to);
        double dobKind = random.NextDouble();
        DateOnly? knownDob = dobKind < 0.005 ? null : dob;
        bool dayUnknown = dobKind is >= 0.005 and < 0.035;
        string dobText = knownDob is null ? string.Empty
            : dayUnknown ? DateText.Dmy(new DateOnly(dob.Year, dob.Month, 1))
            : DateText.Dmy(dob);

        DateOnly adulthood = dob.AddYears(18);
        string? previousSurname = female && random.Chance(0.3) ? random.Pick(SyntheticNameLists.Surnames) : null;
        DateOnly nameChanged = random.NextDate(adulthood, adulthood.AddYears(20));
        bool shortForename = random.Chance(0.05);

        return new SyntheticPerson
        {
            PersonNumber = personNumber,
            NhsKind = kind,
            NhsNumber = nhs,
            Gender = gender,
            Forename = forename,
            Surname = surname,
            MiddleNames = middle,
            PreviousSurname = previousSurname == surname ? null : previousSurname,
            NameChangedOn = nameChanged,
            HasShortForename = shortForename,
            DateOfBirth = knownDob,
            DateOfBirthText = dobText,
            Addresses = DrawAddresses(random, dob),
        };
    }

    private IReadOnlyList<SyntheticAddress> DrawAddresses(SeededRandom random, DateOnly dob)
    {
        int previousCount = random.PickWeighted([45, 30, 15, 10]);
        var addresses = new List<SyntheticAddress>(previousCount + 1);
        DateOnly latest = options.FirstFileDate.AddDays(-30);
        DateOnly earliest = dob > latest ? latest : dob;

        // Walk back in time: the current address started last; each earlier one ended when the next began.
        DateOnly start = random.NextDate(Later(earliest, latest.AddYears(-15)), latest);
        string endText = string.Empty;
        for (int i = 0; i <= previousCount; i++)
        {
            if (i > 0)
            {
                DateOnly nextStart = start;
                endText = random.Chance(0.1) ? "00/00/0000" : DateText.Dmy(nextStart);
                start = random.NextDate(Later(earliest, nextStart.AddYears(-12)), nextStart.AddDays(-1));
            }

            double startKind = random.NextDouble();
            string startText = startKind < 0.03 ? string.Empty
                : startKind < 0.08 ? "00/" + DateText.Dmy(start)[3..]
                : startKind < 0.10 ? "00/00/" + start.Year.ToString("D4", CultureInfo.InvariantCulture)
                : DateText.Dmy(start);
            addresses.Add(DrawAddress(random, startText, endText, start));
        }

        return addresses;
    }

    private static SyntheticAddress DrawAddress(SeededRandom random, string start, string end, DateOnly startedOn)
    {
        var (town, county) = random.Pick(SyntheticNameLists.Towns);
        string street = $"{random.Next(1, 240)} {random.Pick(SyntheticNameLists.StreetNames)} {random.Pick(SyntheticNameLists.StreetTypes)}";
        string locality = random.Chance(0.4) ? random.Pick(SyntheticNameLists.Localities) : string.Empty;
        string postcode = SyntheticPostcodes.Next(random);
        return random.Chance(0.15)
            ? new SyntheticAddress($"FLAT {random.Next(1, 40)}", street, locality.Length > 0 ? locality : town,
                locality.Length > 0 ? town : county, locality.Length > 0 ? county : string.Empty, postcode, start, end, startedOn)
            : new SyntheticAddress(street, locality, town, county, string.Empty, postcode, start, end, startedOn);
    }

    private static DateOnly Later(DateOnly a, DateOnly b) => a > b ? a : b;
}
