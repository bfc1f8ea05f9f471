using System.Security.Cryptography;
using System.Text;
using Linkage.File1;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.Ttp;

/// <summary>
/// The trusted third party's work on one File 1, as pure streaming code over streams the caller opens:
/// pass 1 checks every rule and collects each participant's token, permissions and identifier quality;
/// pass 2 (only for an accepted file) writes the NHS Output. Memory is per participant (~150 bytes), never per row.
/// </summary>
public sealed class TtpFile1Processor(StudyIdTokenizer tokenizer, NationalOptOutList optOut, BlockTokenCipher linkCipher)
{
    /// <summary>The data-key purpose of the cross-study link key (TTP zone only).</summary>
    public const string LinkKeyPurpose = "ttp-link";

    /// <summary>Result of pass 1: the checker's report and, when accepted, the participants sorted by token.</summary>
    public sealed record Collected(File1CheckReport Report, IReadOnlyList<Participant> Participants);

    public async Task<Collected> CheckAndCollectAsync(Stream file1, File1CheckOptions options, string studyCode, CancellationToken cancellationToken)
    {
        var run = new File1CheckRun(options);
        var byToken = new Dictionary<TokenBytes, Participant>();
        string? lastStudyId = null;
        TokenBytes lastToken = default;
        byte[] tokenBytes = new byte[16];
        using var reader = new File1Reader(file1);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = reader.Current;
            run.CheckRow(row);
            if (!row.IsWellFormed || row[File1Schema.StudyId].IsEmpty)
            {
                continue; // the report carries the error; the file will be rejected
            }

            // Rows of one participant are usually adjacent: tokenise each STUDY_ID once.
            var studyId = row[File1Schema.StudyId];
            if (lastStudyId is null || !studyId.SequenceEqual(lastStudyId))
            {
                lastStudyId = studyId.ToString();
                tokenizer.TokenizeToBytes(studyCode, studyId, tokenBytes);
                lastToken = TokenBytes.FromBytes(tokenBytes);
            }

            if (!byToken.TryGetValue(lastToken, out var p))
            {
                p = new Participant(lastToken);
                byToken.Add(lastToken, p);
            }

            if (optOut.Count > 0 && optOut.Contains(row[File1Schema.NhsNumber]))
            {
                p.OnOptOutList = true;
            }

            if (row[File1Schema.RowStatus] is "C")
            {
                Collect(row, p);
            }
            else
            {
                p.HistoricalRows++;
            }
        }

        var report = run.Finish(reader);
        if (!report.Accepted)
        {
            return new Collected(report, []);
        }

        var participants = byToken.Values.ToList();
        foreach (var p in participants)
        {
            if (p.S251 && p.OnOptOutList)
            {
                p.Flags |= PermissionFlags.NationalOptOutApplies;
            }
        }

        participants.Sort((a, b) => a.Token.CompareTo(b.Token));
        return new Collected(report, participants);
    }

    private void Collect(File1Row row, Participant p)
    {
        p.S251 = row[File1Schema.NationalOptOut] is "1";
        p.Flags = PermissionFlagsFromFile1.Build(
            row[File1Schema.UkllcStatus], row[File1Schema.NhsELinkagePermission], row[File1Schema.NhsSLinkagePermission],
            row[File1Schema.NhsWLinkagePermission], row[File1Schema.NhsNiLinkagePermission], row[File1Schema.GeocodingPermission],
            row[File1Schema.SmallAreaPermission], row[File1Schema.EnvironmentPermission], row[File1Schema.PropertyLevelPermission],
            row[File1Schema.DfeLinkagePermission], row[File1Schema.DwpLinkagePermission], row[File1Schema.HmrcLinkagePermission],
            nationalOptOut: "0", onNationalOptOutList: false); // applied once every row of the participant was seen

        var nhs = row[File1Schema.NhsNumber];
        var dob = row[File1Schema.DateOfBirth];
        var postcode = row[File1Schema.Postcode];
        var q = IdentifierQuality.None;
        bool nhsValid = NhsNumber.IsValid(nhs);
        q |= nhs.IsEmpty ? 0 : IdentifierQuality.HasNhsNumber;
        q |= nhsValid ? IdentifierQuality.NhsNumberValid : 0;
        q |= dob.IsEmpty ? 0 : IdentifierQuality.HasDateOfBirth;
        q |= row[File1Schema.Surname].IsWhiteSpace() ? 0 : IdentifierQuality.HasSurname;
        q |= row[File1Schema.Forename].IsWhiteSpace() ? 0 : IdentifierQuality.HasForename;
        q |= row[File1Schema.Address1].IsWhiteSpace() ? 0 : IdentifierQuality.HasAddress;
        q |= postcode.IsEmpty ? 0 : IdentifierQuality.HasPostcode;
        q |= UkPostcode.IsWellFormed(postcode) ? IdentifierQuality.PostcodeWellFormed : 0;
        q |= row[File1Schema.GenderCd] is "1" or "2" or "7" ? IdentifierQuality.HasGender : 0;
        p.Quality = q;
        p.LinkKey = nhsValid && dob.Length == 10 && !dob.Contains("00/", StringComparison.Ordinal) ? LinkKeyOf(nhs, dob) : null;
    }

    /// <summary>
    /// Cross-study link rule: the same valid NHS number and the same full date of birth on the current rows. Only a keyed
    /// pseudorandom value is kept — AES-256 under the TTP link key of the first 16 bytes of SHA-256("nhs|dob") — so the
    /// link index holds no identifier and cannot be recomputed without the key.
    /// </summary>
    public UInt128 LinkKeyOf(ReadOnlySpan<char> nhsNumber, ReadOnlySpan<char> dateOfBirth)
    {
        Span<byte> input = stackalloc byte[32];
        int n = Encoding.ASCII.GetBytes(nhsNumber, input);
        input[n++] = (byte)'|';
        n += Encoding.ASCII.GetBytes(dateOfBirth, input[n..]);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(input[..n], digest);
        Span<byte> block = stackalloc byte[16];
        linkCipher.EncryptBlocks(digest[..16], block);
        CryptographicOperations.ZeroMemory(digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(block);
    }

    /// <summary>Pass 2: every row (current and historical) of participants the NHS Output may include.</summary>
    public async Task<long> WriteNhsOutputAsync(Stream file1, string studyCode, IReadOnlyList<Participant> participants, TextWriter output, CancellationToken cancellationToken)
    {
        var included = participants.Where(p => p.InNhsOutput).Select(p => p.Token).ToHashSet();
        var line = new CsvLine();
        foreach (var name in TtpOutputFormats.NhsOutputColumns)
        {
            line.Add(name);
        }

        line.WriteTo(output);
        long rows = 0;
        string? lastStudyId = null;
        bool lastIncluded = false;
        string lastTokenText = "";
        byte[] tokenBytes = new byte[16];
        using var reader = new File1Reader(file1);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = reader.Current;
            var studyId = row[File1Schema.StudyId];
            if (lastStudyId is null || !studyId.SequenceEqual(lastStudyId))
            {
                lastStudyId = studyId.ToString();
                tokenizer.TokenizeToBytes(studyCode, studyId, tokenBytes);
                var token = TokenBytes.FromBytes(tokenBytes);
                lastIncluded = included.Contains(token);
                lastTokenText = lastIncluded ? token.ToString() : "";
            }

            if (!lastIncluded)
            {
                continue;
            }

            // Every provider-typed field is neutralised against spreadsheet formulas, not only names: a field the checker
            // only warns about (an invalid NHS number, a malformed postcode) may still start with '=' or '+'.
            line.Add(lastTokenText).Add(row[File1Schema.RowStatus]).AddText(row[File1Schema.NhsNumber])
                .AddText(row[File1Schema.Surname]).AddText(row[File1Schema.Forename]).AddText(row[File1Schema.MiddleNames]);
            for (int f = File1Schema.Address1; f <= File1Schema.Address5; f++)
            {
                line.AddText(row[f]);
            }

            line.AddText(row[File1Schema.Postcode]).AddText(row[File1Schema.DateOfBirth]).AddText(row[File1Schema.GenderCd])
                .AddText(row[File1Schema.NhsDigitalStudyNumber]).Add(tokenizer.KeyVersion).WriteTo(output);
            rows++;
        }

        return rows;
    }
}
