using Linkage.Permissions;

namespace Linkage.Ttp;

/// <summary>
/// The files the TTP sends on (docs/formats/ttp-outputs.md): ID mapping file and permission snapshot (to the processor,
/// no identifiers), NHS Output and delta file (to NHS England). UTF-8 without BOM, LF line ends, RFC 4180 quoting.
/// </summary>
public static class TtpOutputFormats
{
    public static IReadOnlyList<string> NhsOutputColumns { get; } =
    [
        "ttp_person_id", "row_status", "nhs_number", "surname", "forename", "middlenames",
        "address_1", "address_2", "address_3", "address_4", "address_5", "postcode", "date_of_birth", "gender_cd",
        "nhs_digital_study_number", "token_key_version",
    ];

    /// <summary>Permission columns of the ID mapping file, in order, with the flag each one shows.</summary>
    public static IReadOnlyList<(string Column, PermissionFlags Flag)> PermissionColumns { get; } =
    [
        ("ukllc_status", PermissionFlags.Active),
        ("nhs_e_linkage", PermissionFlags.NhsE),
        ("nhs_s_linkage", PermissionFlags.NhsS),
        ("nhs_w_linkage", PermissionFlags.NhsW),
        ("nhs_ni_linkage", PermissionFlags.NhsNi),
        ("geocoding_postcode", PermissionFlags.GeocodingPostcode),
        ("geocoding_full_address", PermissionFlags.GeocodingFullAddress),
        ("small_area", PermissionFlags.SmallArea),
        ("environment", PermissionFlags.Environment),
        ("property_level", PermissionFlags.PropertyLevel),
        ("dfe_linkage", PermissionFlags.Dfe),
        ("dwp_linkage", PermissionFlags.Dwp),
        ("hmrc_linkage", PermissionFlags.Hmrc),
        ("national_opt_out_applies", PermissionFlags.NationalOptOutApplies),
    ];

    public static IReadOnlyList<(string Column, IdentifierQuality Quality)> QualityColumns { get; } =
    [
        ("has_nhs_number", IdentifierQuality.HasNhsNumber),
        ("nhs_number_valid", IdentifierQuality.NhsNumberValid),
        ("has_date_of_birth", IdentifierQuality.HasDateOfBirth),
        ("has_surname", IdentifierQuality.HasSurname),
        ("has_forename", IdentifierQuality.HasForename),
        ("has_address", IdentifierQuality.HasAddress),
        ("has_postcode", IdentifierQuality.HasPostcode),
        ("postcode_well_formed", IdentifierQuality.PostcodeWellFormed),
        ("has_gender", IdentifierQuality.HasGender),
    ];

    public static IReadOnlyList<string> DeltaColumns { get; } =
        ["ttp_person_id", "change", "permission", "previous", "current", "study", "file1_version", "effective_date", "token_key_version"];

    /// <summary>One row per participant: token, permissions and identifier-quality indicators — never an identifier.</summary>
    public static long WriteIdMapping(IReadOnlyList<Participant> participants, string studyCode, int file1Version, string keyVersion, TextWriter output)
    {
        var line = new CsvLine();
        line.Add("ttp_person_id").Add("study").Add("file1_version");
        foreach (var (c, _) in PermissionColumns)
        {
            line.Add(c);
        }

        foreach (var (c, _) in QualityColumns)
        {
            line.Add(c);
        }

        line.Add("historical_rows").Add("in_nhs_output").Add("token_key_version").WriteTo(output);
        foreach (var p in participants)
        {
            line.Add(p.Token.ToString()).Add(studyCode).Add(file1Version);
            foreach (var (_, flag) in PermissionColumns)
            {
                line.Add(p.Flags.HasFlag(flag));
            }

            foreach (var (_, q) in QualityColumns)
            {
                line.Add(p.Quality.HasFlag(q));
            }

            line.Add(p.HistoricalRows).Add(p.InNhsOutput).Add(keyVersion).WriteTo(output);
        }

        return participants.Count;
    }

    /// <summary>The compact permission snapshot File 2 intake reads instead of querying the registry per row.</summary>
    public static PermissionSnapshotWriter SnapshotOf(IReadOnlyList<Participant> participants, PermissionSnapshotHeader header)
    {
        var writer = new PermissionSnapshotWriter(header);
        foreach (var p in participants)
        {
            writer.Add(p.Token, p.Flags);
        }

        return writer;
    }

    /// <summary>
    /// The delta file for NHS England: changes since the study's previous accepted File 1 that NHS England acts on
    /// (seed 001), for participants within its reach (NHS England linkage permitted before or now): withdrawn and
    /// rejoined (UKLLC_STATUS), NHS England linkage turned off or on, and the national data opt-out starting or ceasing
    /// to apply (s251). Nothing else: not who joined, not other permissions (DWP, HMRC, DfE, geocoding…), not who is
    /// absent — NHS England must not learn them. Every change, relevant or not, is counted in
    /// <paramref name="changes"/> (for the File 1 record and the quarter report; the registry keeps each one).
    /// Returns the number of rows written.
    /// </summary>
    public static long WriteDelta(IReadOnlyList<Participant> current, PermissionSnapshot? previous, string studyCode, int file1Version, DateOnly effective, string keyVersion, TextWriter output, IDictionary<string, long>? changes = null)
    {
        var line = new CsvLine();
        foreach (var c in DeltaColumns)
        {
            line.Add(c);
        }

        line.WriteTo(output);
        long rows = 0;
        var counts = changes ?? new Dictionary<string, long>();
        foreach (var key in DeltaChangeKeys)
        {
            counts[key] = 0;
        }

        string date = effective.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        void Row(TokenBytes token, string change, string permission, string before, string after)
        {
            line.Add(token.ToString()).Add(change).Add(permission).Add(before).Add(after).Add(studyCode).Add(file1Version).Add(date).Add(keyVersion).WriteTo(output);
            rows++;
        }

        var before = previous?.Entries().GetEnumerator();
        bool hasBefore = before?.MoveNext() ?? false;
        foreach (var p in current)
        {
            // Both sides are sorted by token: a merge join.
            while (hasBefore && before!.Current.Token.CompareTo(p.Token) < 0)
            {
                counts["absent"]++;
                hasBefore = before.MoveNext();
            }

            if (hasBefore && before!.Current.Token.Equals(p.Token))
            {
                var old = before.Current.Flags;
                hasBefore = before.MoveNext();
                bool inReach = old.HasFlag(PermissionFlags.NhsE) || p.Flags.HasFlag(PermissionFlags.NhsE);
                if (old.HasFlag(PermissionFlags.Active) != p.Flags.HasFlag(PermissionFlags.Active))
                {
                    bool rejoined = p.Flags.HasFlag(PermissionFlags.Active);
                    counts[rejoined ? "rejoined" : "withdrawals"]++;
                    if (inReach)
                    {
                        Row(p.Token, rejoined ? "rejoined" : "withdrawn", "ukllc_status", Bit(old, PermissionFlags.Active), Bit(p.Flags, PermissionFlags.Active));
                    }
                }

                foreach (var (column, flag) in NhsEnglandPermissions)
                {
                    if (old.HasFlag(flag) != p.Flags.HasFlag(flag))
                    {
                        bool on = p.Flags.HasFlag(flag);
                        counts[flag == PermissionFlags.NhsE ? (on ? "nhsEOptIns" : "nhsEOptOuts") : (on ? "nationalOptOutExclusions" : "nationalOptOutLifted")]++;
                        if (inReach)
                        {
                            Row(p.Token, on ? "permission-on" : "permission-off", column, Bit(old, flag), Bit(p.Flags, flag));
                        }
                    }
                }
            }
            else if (previous is not null)
            {
                counts["joined"]++;
            }
        }

        while (hasBefore)
        {
            counts["absent"]++;
            hasBefore = before!.MoveNext();
        }

        return rows;
    }

    /// <summary>The change counts <see cref="WriteDelta"/> fills (all changes, whether NHS England is told or not).</summary>
    public static IReadOnlyList<string> DeltaChangeKeys { get; } =
        ["joined", "withdrawals", "rejoined", "absent", "nhsEOptOuts", "nhsEOptIns", "nationalOptOutExclusions", "nationalOptOutLifted"];

    /// <summary>The permissions whose changes NHS England acts on: its own linkage, and the national data opt-out (s251).</summary>
    private static readonly (string Column, PermissionFlags Flag)[] NhsEnglandPermissions =
    [
        ("nhs_e_linkage", PermissionFlags.NhsE),
        ("national_opt_out_applies", PermissionFlags.NationalOptOutApplies),
    ];

    private static string Bit(PermissionFlags flags, PermissionFlags flag) => flags.HasFlag(flag) ? "1" : "0";
}
