using System.IO.Compression;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Linkage.File1;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>One place an identifier spelling was found. Names the place and the spelling's kind, never the identifier.</summary>
internal sealed record LeakFinding(string Where, string What, int Offset)
{
    public override string ToString() => $"{What} in {Where} at offset {Offset}";
}

/// <summary>
/// Looks for the identifiers of a synthetic input in text, in every spelling a leak could take
/// (<see cref="IdentifierVariants"/>):
/// <list type="bullet">
/// <item>every identifying File 1 field (STUDY_ID, NHS number, surname, forename, middle names, address lines,
/// postcode, date of birth, NHS Digital / Scotland / Northern Ireland study numbers), as written and in any case, and
/// names and address lines without spaces or punctuation; forename and surname together ("F S", "S, F", "FS"…);</item>
/// <item>the NHS number as 10 digits and 3-3-4 with spaces, dashes or dots; the postcode with and without its space;</item>
/// <item>the date of birth in every format the app reads (File 1 and NHS Output: dd/MM/yyyy) or writes (ISO
/// yyyy-MM-dd), and dd-MM-yyyy, dd.MM.yyyy, yyyy/MM/dd, MM/dd/yyyy (invariant culture), d/M/yyyy, M/d/yyyy,
/// yyyyMMdd, ddMMyyyy, "1 Feb 1970", "February 1, 1970", "01-FEB-70"…;</item>
/// <item>hex (any case) and Base64 / Base64url of the UTF-8 text (as written and lower case) of every identifier,
/// whole and at each offset inside a longer Base64 text; unkeyed MD5, SHA-1 and SHA-256 of the NHS number and the
/// STUDY_ID (hex, Base64, Base64url).</item>
/// </list>
/// Text is searched as stored and, where it has them, with JSON escapes (<c>\u0027</c>, <c>\/</c>…, repeatedly, for
/// JSON inside JSON) and URL escapes undone; gzip-compressed blobs (the Durable Task hub's large messages) are unpacked
/// and Base64 queue messages decoded by the storage walk (<see cref="LeakScan"/>).
/// <para><b>Rules against chance matches</b> (each shown by a test in <c>IdentifierScanTests</c>; none hides a real
/// spelling of a leak):</para>
/// <list type="number">
/// <item>Identifier text of fewer than <see cref="IdentifierVariants.MinimumLength"/> letters and digits ("LEE", "MIA",
/// "9") is not searched on its own: it would match inside ordinary words. Such a name is still searched as part of the
/// person's full name ("MIA LEE", "LEE, MIA", "MIALEE"), which is what identifies someone.</item>
/// <item>Short name-like text (fewer than <see cref="IdentifierVariants.ShortLength"/> letters and digits: five-to-seven
/// letter names and towns, compact postcodes) carries only 25–35 bits, and any case of it occurs by chance in the
/// kilobytes of random Base64 the app writes (tokens, ciphertext, keys). Such a match does not count (a) inside an
/// "encoded run": 16 or more characters of the Base64 alphabet (without '/', so paths are not runs) with at least three
/// upper-case and three lower-case letters and a digit, the shape of random Base64 and of no name; or (b) when its case
/// is mixed ("sMiTh") and a letter touches it. In upper, lower or title case it counts anywhere else.</item>
/// <item>All-digit spellings must not touch another digit (a 10-digit NHS number inside a 19-digit tick count is not that
/// number); yyyyMMdd, ddMMyyyy and the compact postcode must stand alone (no letter or digit touching them), as ~25,000
/// possible birth dates would otherwise match most 8-digit runs of hex.</item>
/// <item>Base64 is matched case-sensitively (its case is part of the value); cores inside a longer Base64 text shorter
/// than <see cref="IdentifierVariants.MinimumEmbeddedBase64"/> characters are not searched (the whole standalone
/// encoding still is). Address lines and full names are Base64-searched as a whole only, not at the three offsets inside
/// a longer Base64 text (they are the most numerous values; their single names and the other fields are).</item>
/// </list>
/// Matching is linear in the text: a rolling hash of the first 5, 8 or 16 characters (folded to lower case) at each
/// position, looked up in a bit filter and then a table of the variants starting that way, each candidate verified in full.
/// </summary>
internal sealed class IdentifierScan
{
    private const ulong Base = 1_099_511_628_211UL;
    private const int FilterBits = 22;
    private static readonly int[] PrefixLengths = [5, 8, 16];

    private readonly List<IdentifierVariant> _variants;
    private readonly string[] _folded;
    private readonly int[] _next; // the next variant with the same prefix hash (-1: none): chains instead of a list per hash
    private readonly Bucket[] _buckets;

    public IdentifierScan(IEnumerable<IdentifierVariant> variants)
    {
        var caseless = new HashSet<string>(StringComparer.Ordinal);
        var exact = new HashSet<string>(StringComparer.Ordinal);
        _variants = [];
        var folded = new List<string>();
        foreach (var v in variants)
        {
            if (v.Text.Length < PrefixLengths[0])
            {
                continue;
            }

            string f = v.Text.ToLowerInvariant();
            if (v.CaseSensitive ? exact.Add(v.Text) : caseless.Add(f))
            {
                _variants.Add(v);
                folded.Add(f);
            }
        }

        _folded = [.. folded];
        _next = new int[_folded.Length];
        _buckets = PrefixLengths.Select(k => new Bucket(k)).ToArray();
        for (int i = 0; i < _folded.Length; i++)
        {
            int b = Array.FindLastIndex(PrefixLengths, k => k <= _folded[i].Length);
            _next[i] = _buckets[b].Add(Hash(_folded[i].AsSpan(0, PrefixLengths[b])), i);
        }
    }

    /// <summary>Plain identifier values (tests that build text by hand): each is searched in every spelling its shape suggests.</summary>
    public IdentifierScan(IEnumerable<string> identifiers)
        : this(identifiers.SelectMany(Guess))
    {
    }

    public int Count => _variants.Count;

    public IReadOnlyList<IdentifierVariant> Variants => _variants;

    /// <summary>Every identifier of the File 1s at <paramref name="paths"/> (read independently of the app's intake code).</summary>
    public static IdentifierScan FromFile1s(IEnumerable<string> paths)
    {
        var values = new File1IdentifierValues();
        foreach (string path in paths)
        {
            using var reader = new File1Reader(File.OpenRead(path));
            while (reader.Read())
            {
                var row = reader.Current;
                values.Add(Enumerable.Range(0, File1Schema.FieldCount).Select(row.GetString).ToArray());
            }
        }

        return new IdentifierScan(values.Variants());
    }

    /// <summary>Fails the test naming <paramref name="where"/> and the spelling (never the identifier) when any variant occurs in <paramref name="text"/>.</summary>
    public void AssertFree(string text, string where)
    {
        var found = Find(text, where);
        if (found.Count > 0)
        {
            Assert.Fail(Describe(found));
        }
    }

    /// <summary>What a failure says: where and which kind of spelling, for up to 25 findings.</summary>
    public static string Describe(IReadOnlyCollection<LeakFinding> found) =>
        $"An identifier from the input was found {found.Count} time(s) outside the TTP zone:\n  " + string.Join("\n  ", found.Take(25));

    /// <summary>Every variant in <paramref name="text"/>, also with JSON and URL escapes undone; one finding per place and spelling.</summary>
    public List<LeakFinding> Find(string text, string where)
    {
        var found = new List<LeakFinding>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string t, string w)
        {
            foreach (var f in Search(t, w))
            {
                if (seen.Add(f.What))
                {
                    found.Add(f);
                }
            }
        }

        Add(text, where);
        string current = text;
        for (int depth = 1; depth <= 3 && current.Contains('\\', StringComparison.Ordinal); depth++)
        {
            string unescaped = JsonUnescape(current);
            if (unescaped == current)
            {
                break;
            }

            Add(unescaped, $"{where} (JSON escapes undone ×{depth})");
            current = unescaped;
        }

        if (text.Contains('%', StringComparison.Ordinal))
        {
            string decoded = Uri.UnescapeDataString(text);
            if (decoded != text)
            {
                Add(decoded, $"{where} (URL escapes undone)");
            }
        }

        return found;
    }

    /// <summary>Blob or message bytes as text: gzip unpacked; UTF-8 where valid, else Latin-1 (byte for byte).</summary>
    public static string BlobText(byte[] content)
    {
        if (content.Length > 2 && content[0] == 0x1F && content[1] == 0x8B)
        {
            try
            {
                using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
                using var unpacked = new MemoryStream();
                gzip.CopyTo(unpacked);
                content = unpacked.ToArray();
            }
            catch (InvalidDataException)
            {
                // not gzip after all: searched as it is
            }
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(content);
        }
    }

    /// <summary>Every entity of every table of the account (the Durable Task hub's history and instances among them).</summary>
    public async Task<int> ScanTablesAsync(string connectionString)
    {
        var report = new LeakScanReport();
        await LeakScan.ScanTablesAsync(this, new TableServiceClient(connectionString), report);
        report.AssertClean();
        return (int)report.Count("table entities");
    }

    /// <summary>Every message still on any queue of the account (peeked, and Base64-decoded where it is Base64).</summary>
    public async Task<int> ScanQueuesAsync(string connectionString)
    {
        var report = new LeakScanReport();
        await LeakScan.ScanQueuesAsync(this, new QueueServiceClient(connectionString), report, receive: false);
        report.AssertClean();
        return (int)report.Count("queue messages");
    }

    private List<LeakFinding> Search(string text, string where)
    {
        var found = new List<LeakFinding>();
        if (text.Length < PrefixLengths[0])
        {
            return found;
        }

        string folded = text.ToLowerInvariant();
        foreach (var bucket in _buckets)
        {
            int k = bucket.Length;
            if (bucket.IsEmpty || folded.Length < k)
            {
                continue;
            }

            ulong h = 0;
            for (int i = 0; i < folded.Length; i++)
            {
                h = (h * Base) + folded[i];
                if (i >= k)
                {
                    h -= folded[i - k] * bucket.TopPower;
                }

                if (i >= k - 1 && bucket.MayContain(h) && bucket.First(h) is int first)
                {
                    int start = i - k + 1;
                    for (int c = first; c >= 0; c = _next[c])
                    {
                        if (Matches(c, text, folded, start))
                        {
                            found.Add(new LeakFinding(where, _variants[c].Description, start));
                        }
                    }
                }
            }
        }

        return found;
    }

    private bool Matches(int index, string text, string folded, int start)
    {
        var v = _variants[index];
        string p = _folded[index];
        int end = start + p.Length;
        if (end > folded.Length || !folded.AsSpan(start, p.Length).SequenceEqual(p))
        {
            return false;
        }

        if (v.CaseSensitive && !text.AsSpan(start, p.Length).SequenceEqual(v.Text))
        {
            return false;
        }

        char before = start > 0 ? text[start - 1] : ' ';
        char after = end < text.Length ? text[end] : ' ';
        bool boundaryHolds = v.Boundary switch
        {
            MatchBoundary.NoDigitAround => !char.IsAsciiDigit(before) && !char.IsAsciiDigit(after),
            MatchBoundary.NoLetterOrDigitAround => !char.IsAsciiLetterOrDigit(before) && !char.IsAsciiLetterOrDigit(after),
            _ => true,
        };
        if (!boundaryHolds)
        {
            return false;
        }

        if (v.ChanceFiltered)
        {
            if (InEncodedRun(text, start, end))
            {
                return false;
            }

            if (!PlainCase(text.AsSpan(start, p.Length)) && (char.IsAsciiLetter(before) || char.IsAsciiLetter(after)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when [start, end) lies in a run of 16+ Base64 characters ('/' excepted) with 3+ upper, 3+ lower and a digit.</summary>
    internal static bool InEncodedRun(string text, int start, int end)
    {
        static bool RunChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '_';
        int from = start, to = end;
        while (from > 0 && RunChar(text[from - 1]))
        {
            from--;
        }

        while (to < text.Length && RunChar(text[to]))
        {
            to++;
        }

        if (to - from < 16)
        {
            return false;
        }

        int upper = 0, lower = 0, digits = 0;
        for (int i = from; i < to; i++)
        {
            char c = text[i];
            upper += char.IsAsciiLetterUpper(c) ? 1 : 0;
            lower += char.IsAsciiLetterLower(c) ? 1 : 0;
            digits += char.IsAsciiDigit(c) ? 1 : 0;
        }

        return upper >= 3 && lower >= 3 && digits >= 1;
    }

    /// <summary>Upper case, lower case, or title case (each word capitalised) — the cases people and programs write names in.</summary>
    private static bool PlainCase(ReadOnlySpan<char> s)
    {
        bool anyLower = false, anyUpper = false, title = true, wordStart = true;
        foreach (char c in s)
        {
            if (char.IsLetter(c))
            {
                anyLower |= char.IsLower(c);
                anyUpper |= char.IsUpper(c);
                title &= wordStart ? char.IsUpper(c) : char.IsLower(c);
                wordStart = false;
            }
            else
            {
                wordStart = true;
            }
        }

        return !anyLower || !anyUpper || title;
    }

    private static ulong Hash(ReadOnlySpan<char> s)
    {
        ulong h = 0;
        foreach (char c in s)
        {
            h = (h * Base) + c;
        }

        return h;
    }

    /// <summary>Undoes one level of JSON string escaping (<c>\uXXXX</c>, <c>\/</c>, <c>\\</c>, <c>\"</c>, <c>\n</c>…).</summary>
    internal static string JsonUnescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c != '\\' || i + 1 >= s.Length)
            {
                sb.Append(c);
                continue;
            }

            char n = s[i + 1];
            if (n == 'u' && i + 5 < s.Length && ushort.TryParse(s.AsSpan(i + 2, 4), System.Globalization.NumberStyles.HexNumber, null, out ushort code))
            {
                sb.Append((char)code);
                i += 5;
                continue;
            }

            sb.Append(n switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'f' => '\f', _ => n });
            i++;
        }

        return sb.ToString();
    }

    /// <summary>A hand-given identifier's spellings, by its shape: 10 digits, dd/MM/yyyy, a UK postcode, or text.</summary>
    private static IEnumerable<IdentifierVariant> Guess(string id)
    {
        string t = id.Trim();
        if (t.Length == 10 && t.All(char.IsAsciiDigit))
        {
            return IdentifierVariants.NhsNumber(t);
        }

        if (t.Length == 10 && t[2] == '/' && t[5] == '/')
        {
            return IdentifierVariants.DateOfBirth(t);
        }

        if (Linkage.Synth.SyntheticPostcodes.HasValidShape(t))
        {
            return IdentifierVariants.Postcode(t);
        }

        return IdentifierVariants.Text(t, IdentifierField.Name);
    }

    /// <summary>The variants whose first <see cref="Length"/> folded characters hash to a value: a bit filter, then the chain's first.</summary>
    private sealed class Bucket(int length)
    {
        private readonly ulong[] _filter = new ulong[(1 << FilterBits) / 64];
        private readonly Dictionary<ulong, int> _first = [];

        public int Length { get; } = length;

        public ulong TopPower { get; } = Power(length);

        public bool IsEmpty => _first.Count == 0;

        /// <summary>Makes <paramref name="index"/> the first of its hash's chain; returns the previous first (-1: none).</summary>
        public int Add(ulong h, int index)
        {
            int previous = _first.TryGetValue(h, out int p) ? p : -1;
            _first[h] = index;
            int bit = Slot(h);
            _filter[bit >> 6] |= 1UL << (bit & 63);
            return previous;
        }

        public bool MayContain(ulong h)
        {
            int bit = Slot(h);
            return (_filter[bit >> 6] & (1UL << (bit & 63))) != 0;
        }

        public int? First(ulong h) => _first.TryGetValue(h, out int c) ? c : null;

        private static int Slot(ulong h) => (int)((h * 0x9E3779B97F4A7C15UL) >> (64 - FilterBits));

        private static ulong Power(int k)
        {
            ulong p = 1;
            for (int i = 0; i < k; i++)
            {
                p *= Base;
            }

            return p;
        }
    }
}
