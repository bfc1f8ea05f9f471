using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Linkage.File1;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>Which File 1 field an identifier spelling comes from (named in a finding instead of the identifier).</summary>
internal enum IdentifierField
{
    StudyId,
    NhsNumber,
    Name,
    FullName,
    Address,
    Postcode,
    DateOfBirth,
    StudyNumber,
}

/// <summary>What must surround a match for it to count.</summary>
internal enum MatchBoundary
{
    /// <summary>Anywhere, inside anything.</summary>
    Anywhere,

    /// <summary>Not directly after or before a digit: <c>943 476 5919</c> inside <c>1943 476 59190</c> is another number.</summary>
    NoDigitAround,

    /// <summary>Not directly after or before a letter or digit (used for short all-digit or compact spellings only).</summary>
    NoLetterOrDigitAround,
}

/// <summary>
/// One spelling of one identifier. <paramref name="Spelling"/> says how it is spelled (e.g. "SHA-256, hex") so a finding
/// can name it without printing it; <paramref name="ChanceFiltered"/> marks short name-like text (see <see cref="IdentifierScan"/>).
/// </summary>
internal sealed record IdentifierVariant(string Text, IdentifierField Field, string Spelling, bool CaseSensitive, MatchBoundary Boundary, bool ChanceFiltered)
{
    public string Description => $"{Field} ({Spelling}, {Text.Length} characters)";
}

/// <summary>
/// The spellings a leak of a File 1 identifier could take (see <see cref="IdentifierScan"/> for the rules and why).
/// </summary>
internal static class IdentifierVariants
{
    /// <summary>Identifier text shorter than this (letters and digits only) is not searched on its own.</summary>
    public const int MinimumLength = 5;

    /// <summary>Name-like text shorter than this (letters and digits only) is searched under the chance filter.</summary>
    public const int ShortLength = 8;

    /// <summary>Base64 of an identifier inside a longer Base64 text: only cores of at least this many characters are searched.</summary>
    public const int MinimumEmbeddedBase64 = 8;

    /// <summary>Every spelling of every identifying field of one File 1 row (34 fields, as read).</summary>
    public static IEnumerable<IdentifierVariant> ForRow(IReadOnlyList<string> f)
    {
        var values = new File1IdentifierValues();
        values.Add(f);
        return values.Variants();
    }

    /// <summary>A name, address line or other free text: as written and without spaces or punctuation, in any case, and encoded.</summary>
    public static IEnumerable<IdentifierVariant> Text(string value, IdentifierField field, bool embeddedBase64 = true)
    {
        string v = value.Trim();
        string compact = Compact(v);
        if (compact.Length < MinimumLength)
        {
            yield break;
        }

        bool chance = compact.Length < ShortLength;
        yield return new IdentifierVariant(v, field, "as written, any case", false, MatchBoundary.Anywhere, chance);
        if (compact != v)
        {
            yield return new IdentifierVariant(compact, field, "without spaces or punctuation, any case", false, MatchBoundary.Anywhere, chance);
        }

        foreach (var e in Encodings(v, field, embeddedBase64))
        {
            yield return e;
        }
    }

    public static IEnumerable<IdentifierVariant> StudyId(string value)
    {
        string v = value.Trim();
        if (v.Length < MinimumLength)
        {
            yield break;
        }

        yield return new IdentifierVariant(v, IdentifierField.StudyId, "as written, any case", false, MatchBoundary.Anywhere, false);
        foreach (var e in Encodings(v, IdentifierField.StudyId).Concat(Digests(v, IdentifierField.StudyId)))
        {
            yield return e;
        }
    }

    /// <summary>Ten digits; 3-3-4 with spaces, dashes or dots; encoded; and its unkeyed MD5, SHA-1 and SHA-256.</summary>
    public static IEnumerable<IdentifierVariant> NhsNumber(string value)
    {
        string n = value.Trim();
        if (n.Length != 10 || !n.All(char.IsAsciiDigit))
        {
            // A malformed number (in a rejected file) is still an identifier: searched as text.
            foreach (var v in Text(n, IdentifierField.NhsNumber))
            {
                yield return v;
            }

            yield break;
        }

        yield return new IdentifierVariant(n, IdentifierField.NhsNumber, "10 digits", false, MatchBoundary.NoDigitAround, false);
        foreach (char sep in " -.")
        {
            yield return new IdentifierVariant($"{n[..3]}{sep}{n[3..6]}{sep}{n[6..]}", IdentifierField.NhsNumber, $"3-3-4 with '{sep}'", false, MatchBoundary.NoDigitAround, false);
        }

        foreach (var e in Encodings(n, IdentifierField.NhsNumber).Concat(Digests(n, IdentifierField.NhsNumber)))
        {
            yield return e;
        }
    }

    /// <summary>With its space and without (standing alone), in any case, and encoded.</summary>
    public static IEnumerable<IdentifierVariant> Postcode(string value)
    {
        string p = value.Trim();
        string compact = Compact(p);
        if (compact.Length < MinimumLength)
        {
            yield break;
        }

        if (p != compact)
        {
            yield return new IdentifierVariant(p, IdentifierField.Postcode, "as written, any case", false, MatchBoundary.Anywhere, false);
        }

        yield return new IdentifierVariant(compact, IdentifierField.Postcode, "without its space, any case, standing alone", false, MatchBoundary.NoLetterOrDigitAround, true);
        foreach (var e in Encodings(p, IdentifierField.Postcode).Concat(p != compact ? Encodings(compact, IdentifierField.Postcode) : []))
        {
            yield return e;
        }
    }

    /// <summary>Formats of a date the app reads (File 1: dd/MM/yyyy) or writes (ISO yyyy-MM-dd), and the usual others.</summary>
    public static IEnumerable<IdentifierVariant> DateOfBirth(string value)
    {
        string t = value.Trim();
        if (t.Length != 10 || t[2] != '/' || t[5] != '/' || !t.Where(c => c != '/').All(char.IsAsciiDigit))
        {
            foreach (var v in Text(t, IdentifierField.DateOfBirth))
            {
                yield return v;
            }

            yield break;
        }

        string dd = t[..2], mm = t[3..5], yyyy = t[6..];
        string d = dd.TrimStart('0'), m = mm.TrimStart('0');
        var seen = new HashSet<string>(StringComparer.Ordinal);
        IdentifierVariant Date(string text, string spelling, MatchBoundary boundary = MatchBoundary.NoDigitAround) =>
            new(text, IdentifierField.DateOfBirth, spelling, false, boundary, false);

        var formats = new List<IdentifierVariant>
        {
            Date($"{dd}/{mm}/{yyyy}", "dd/MM/yyyy (File 1, NHS Output)"),
            Date($"{yyyy}-{mm}-{dd}", "yyyy-MM-dd (ISO, as the app writes dates)"),
            Date($"{dd}-{mm}-{yyyy}", "dd-MM-yyyy"),
            Date($"{dd}.{mm}.{yyyy}", "dd.MM.yyyy"),
            Date($"{yyyy}/{mm}/{dd}", "yyyy/MM/dd"),
            Date($"{yyyy}.{mm}.{dd}", "yyyy.MM.dd"),
            Date($"{mm}/{dd}/{yyyy}", "MM/dd/yyyy (invariant culture)"),
            Date($"{mm}-{dd}-{yyyy}", "MM-dd-yyyy"),
            Date($"{yyyy}{mm}{dd}", "yyyyMMdd, standing alone", MatchBoundary.NoLetterOrDigitAround),
            Date($"{dd}{mm}{yyyy}", "ddMMyyyy, standing alone", MatchBoundary.NoLetterOrDigitAround),
        };
        if (d.Length > 0 && m.Length > 0)
        {
            formats.Add(Date($"{d}/{m}/{yyyy}", "d/M/yyyy"));
            formats.Add(Date($"{m}/{d}/{yyyy}", "M/d/yyyy (invariant culture, DateTime)"));
            formats.Add(Date($"{d}-{m}-{yyyy}", "d-M-yyyy"));
            formats.Add(Date($"{d}.{m}.{yyyy}", "d.M.yyyy"));
            formats.Add(Date($"{yyyy}-{m}-{d}", "yyyy-M-d"));
        }

        if (d.Length > 0 && m.Length > 0 && DateOnly.TryParseExact(t, "dd/MM/yyyy", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            foreach (string f in new[] { "d MMM yyyy", "dd MMM yyyy", "d MMMM yyyy", "dd MMMM yyyy", "MMMM d, yyyy", "MMM d, yyyy", "dd-MMM-yyyy", "d-MMM-yyyy", "dd-MMM-yy" })
            {
                formats.Add(Date(date.ToString(f, CultureInfo.InvariantCulture), f + ", any case"));
            }
        }

        foreach (var v in formats)
        {
            if (seen.Add(v.Text))
            {
                yield return v;
            }
        }

        foreach (var e in Encodings(t, IdentifierField.DateOfBirth).Concat(Encodings($"{yyyy}-{mm}-{dd}", IdentifierField.DateOfBirth)))
        {
            yield return e;
        }
    }

    /// <summary>
    /// Forename and surname together (so a forename or surname too short to search alone, such as "MIA LEE", is still
    /// searched as a full name): "F S", "F M S", "S F", "S, F" and without spaces.
    /// </summary>
    public static IEnumerable<IdentifierVariant> FullNames(string forename, string middle, string surname)
    {
        if (forename.Length == 0 || surname.Length == 0)
        {
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] pairs = [$"{forename} {surname}", $"{surname} {forename}", $"{surname}, {forename}", middle.Length > 0 ? $"{forename} {middle} {surname}" : ""];
        foreach (string pair in pairs.Where(p => p.Length > 0))
        {
            foreach (var v in Text(pair, IdentifierField.FullName, embeddedBase64: false))
            {
                // Encodings of one full-name spelling are enough: the single names are encoded on their own.
                if ((v.Spelling.StartsWith("as written", StringComparison.Ordinal) || v.Spelling.StartsWith("without", StringComparison.Ordinal) || pair == pairs[0]) && seen.Add(v.Text))
                {
                    yield return v;
                }
            }
        }
    }

    /// <summary>
    /// Hex (matched in any case, so upper and lower) and Base64, standard and URL-safe, of the UTF-8 text as written and
    /// in lower case: the whole encoding (padding dropped), and the characters that do not depend on the neighbours when
    /// the identifier sits at any offset inside a longer Base64 text.
    /// </summary>
    public static IEnumerable<IdentifierVariant> Encodings(string value, IdentifierField field, bool embeddedBase64 = true)
    {
        foreach (string form in new[] { value, value.ToLowerInvariant() }.Distinct(StringComparer.Ordinal))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(form);
            string which = form == value ? "" : " of the lower-case text";
            yield return new IdentifierVariant(Convert.ToHexString(bytes), field, "hex" + which + ", any case", false, MatchBoundary.Anywhere, false);
            string whole = Convert.ToBase64String(bytes).TrimEnd('=');
            foreach (var (text, name) in Base64Forms(whole))
            {
                yield return new IdentifierVariant(text, field, name + which, true, MatchBoundary.Anywhere, false);
            }

            for (int shift = 0; shift < (embeddedBase64 ? 3 : 0); shift++)
            {
                string core = EmbeddedBase64Core(bytes, shift);
                if (core.Length >= MinimumEmbeddedBase64 && !(shift == 0 && core == whole))
                {
                    foreach (var (text, name) in Base64Forms(core))
                    {
                        yield return new IdentifierVariant(text, field, $"{name}{which} inside a longer Base64 text (offset {shift} mod 3)", true, MatchBoundary.Anywhere, false);
                    }
                }
            }
        }
    }

    /// <summary>Unkeyed MD5, SHA-1 and SHA-256 of the UTF-8 text: hex (any case), Base64 and Base64url (padding dropped).</summary>
    public static IEnumerable<IdentifierVariant> Digests(string value, IdentifierField field)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
#pragma warning disable CA5350, CA5351 // the broken hashes are what a careless leak would use: the scan must recognise them
        var digests = new[] { ("MD5", MD5.HashData(bytes)), ("SHA-1", SHA1.HashData(bytes)), ("SHA-256", SHA256.HashData(bytes)) };
#pragma warning restore CA5350, CA5351
        foreach (var (name, digest) in digests)
        {
            yield return new IdentifierVariant(Convert.ToHexString(digest), field, $"unkeyed {name}, hex, any case", false, MatchBoundary.Anywhere, false);
            foreach (var (text, form) in Base64Forms(Convert.ToBase64String(digest).TrimEnd('=')))
            {
                yield return new IdentifierVariant(text, field, $"unkeyed {name}, {form}", true, MatchBoundary.Anywhere, false);
            }
        }
    }

    /// <summary>Letters and digits only.</summary>
    public static string Compact(string value) => new(value.Where(char.IsLetterOrDigit).ToArray());

    private static IEnumerable<(string Text, string Name)> Base64Forms(string standard)
    {
        yield return (standard, "Base64");
        string url = standard.Replace('+', '-').Replace('/', '_');
        if (url != standard)
        {
            yield return (url, "Base64url");
        }
    }

    /// <summary>The Base64 characters fully determined by <paramref name="bytes"/> when they start <paramref name="shift"/> bytes into a 3-byte group.</summary>
    private static string EmbeddedBase64Core(byte[] bytes, int shift)
    {
        var padded = new byte[shift + bytes.Length + 2];
        bytes.CopyTo(padded, shift);
        string all = Convert.ToBase64String(padded);
        int first = (8 * shift + 5) / 6;                   // first character whose 6 bits all lie inside the identifier
        int end = (8 * (shift + bytes.Length)) / 6;        // one past the last such character
        return end > first ? all[first..end] : "";
    }
}

/// <summary>
/// The distinct identifying values of File 1 rows, by field, so each value's spellings are made once however many rows
/// and studies repeat it. Address lines are encoded whole only (not also inside longer Base64 text): they are long and
/// many, and their Base64 is still searched as a whole.
/// </summary>
internal sealed class File1IdentifierValues
{
    private readonly HashSet<string> _studyIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nhs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string, string)> _fullNames = [];
    private readonly HashSet<string> _addresses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _postcodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dates = new(StringComparer.Ordinal);
    private readonly HashSet<string> _studyNumbers = new(StringComparer.Ordinal);

    public void Add(IReadOnlyList<string> f)
    {
        _studyIds.Add(f[File1Schema.StudyId].Trim());
        _nhs.Add(f[File1Schema.NhsNumber].Trim());
        string surname = f[File1Schema.Surname].Trim(), forename = f[File1Schema.Forename].Trim(), middle = f[File1Schema.MiddleNames].Trim();
        _names.Add(surname);
        _names.Add(forename);
        _names.Add(middle);
        _names.UnionWith(middle.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        _fullNames.Add((forename, middle, surname));
        for (int a = File1Schema.Address1; a <= File1Schema.Address5; a++)
        {
            _addresses.Add(f[a].Trim());
        }

        _postcodes.Add(f[File1Schema.Postcode].Trim());
        _dates.Add(f[File1Schema.DateOfBirth].Trim());
        foreach (int n in new[] { File1Schema.NhsDigitalStudyNumber, File1Schema.NhsSStudyNumber, File1Schema.NhsNiStudyNumber })
        {
            if (f[n].Trim() != "9")
            {
                _studyNumbers.Add(f[n].Trim());
            }
        }
    }

    public IEnumerable<IdentifierVariant> Variants() =>
        _studyIds.SelectMany(IdentifierVariants.StudyId)
            .Concat(_nhs.Where(n => n.Length > 0).SelectMany(IdentifierVariants.NhsNumber))
            .Concat(_names.SelectMany(n => IdentifierVariants.Text(n, IdentifierField.Name)))
            .Concat(_fullNames.SelectMany(n => IdentifierVariants.FullNames(n.Item1, n.Item2, n.Item3)))
            .Concat(_addresses.SelectMany(a => IdentifierVariants.Text(a, IdentifierField.Address, embeddedBase64: false)))
            .Concat(_postcodes.SelectMany(IdentifierVariants.Postcode))
            .Concat(_dates.Where(d => d.Length > 0).SelectMany(IdentifierVariants.DateOfBirth))
            .Concat(_studyNumbers.SelectMany(n => IdentifierVariants.Text(n, IdentifierField.StudyNumber)));
}
