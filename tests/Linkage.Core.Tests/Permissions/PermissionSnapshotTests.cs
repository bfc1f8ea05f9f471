using System.Security.Cryptography;
using Linkage.Keys;
using Linkage.Permissions;

namespace Linkage.Core.Tests.Permissions;

public sealed class PermissionSnapshotTests : IDisposable
{
    private readonly BlockTokenCipher _ttp = new(RandomNumberGenerator.GetBytes(32), "ttp-v7");

    public void Dispose() => _ttp.Dispose();

    private static async Task<byte[]> WriteAsync(PermissionSnapshotWriter writer)
    {
        using var stream = new MemoryStream();
        await writer.WriteAsync(stream, CancellationToken.None);
        return stream.ToArray();
    }

    private static Task<PermissionSnapshot> ReadAsync(byte[] bytes) => PermissionSnapshot.ReadAsync(new MemoryStream(bytes), CancellationToken.None);

    private PermissionSnapshotWriter Writer(string study, int version, int participants, PermissionFlags flags, string prefix = "S")
    {
        var writer = new PermissionSnapshotWriter(new PermissionSnapshotHeader(study, version, "ttp-v7", new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)));
        for (int i = 0; i < participants; i++)
        {
            writer.Add(_ttp.Encrypt($"{prefix}{i}"), flags);
        }

        return writer;
    }

    [Fact]
    public async Task A_snapshot_round_trips_with_its_header_and_is_18_bytes_per_participant_plus_header_and_checksum()
    {
        var flags = PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.NationalOptOutApplies;
        byte[] bytes = await WriteAsync(Writer("ALSPAC", 4, 1000, flags));

        var snapshot = await ReadAsync(bytes);

        Assert.Equal(new PermissionSnapshotHeader("ALSPAC", 4, "ttp-v7", new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)), snapshot.Header);
        Assert.Equal(1000, snapshot.Count);
        int header = 8 + 2 + 1 + "ALSPAC".Length + 4 + 1 + "ttp-v7".Length + 8 + 8;
        Assert.Equal(header + (1000 * 18) + 32, bytes.Length);
        var set = PermissionSnapshotSet.Merge([snapshot]);
        Assert.True(set.TryGetFlags(_ttp.Encrypt("S123"), out var found));
        Assert.Equal(flags, found);
        Assert.False(set.TryGetFlags(_ttp.Encrypt("NOBODY"), out _));
    }

    [Fact]
    public async Task Any_flipped_byte_is_detected_by_the_checksum_or_structure_checks()
    {
        byte[] bytes = await WriteAsync(Writer("BCS70", 1, 50, PermissionFlags.Active));
        for (int i = 0; i < bytes.Length; i += 7)
        {
            byte[] corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0x01;

            await Assert.ThrowsAsync<PermissionSnapshotException>(() => ReadAsync(corrupt));
        }
    }

    [Fact]
    public async Task A_truncated_snapshot_is_rejected()
    {
        byte[] bytes = await WriteAsync(Writer("BCS70", 1, 50, PermissionFlags.Active));

        var e = await Assert.ThrowsAsync<PermissionSnapshotException>(() => ReadAsync(bytes[..^40]));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public async Task Adding_the_same_participant_twice_is_an_error_without_the_token_in_the_message()
    {
        var writer = Writer("UKHLS", 1, 3, PermissionFlags.Active);
        string token = _ttp.Encrypt("S1");
        writer.Add(token, PermissionFlags.None);

        var e = await Assert.ThrowsAsync<PermissionSnapshotException>(() => WriteAsync(writer));
        Assert.DoesNotContain(token, e.Message);
    }

    [Fact]
    public async Task The_set_keeps_only_the_latest_file1_version_of_each_study_and_merges_studies()
    {
        var old = await ReadAsync(await WriteAsync(Writer("ALSPAC", 1, 100, PermissionFlags.Active | PermissionFlags.NhsE, "A")));
        var latest = await ReadAsync(await WriteAsync(Writer("ALSPAC", 2, 100, PermissionFlags.Active, "A")));
        var other = await ReadAsync(await WriteAsync(Writer("MCS", 5, 5000, PermissionFlags.Active | PermissionFlags.SmallArea, "M")));

        var set = PermissionSnapshotSet.Merge([latest, other, old]);

        Assert.Equal(5100, set.Count);
        Assert.Equal(["ALSPAC", "MCS"], set.Sources.Select(s => s.StudyCode));
        Assert.Equal(2, set.Sources[0].File1Version);
        Assert.True(set.TryGetFlags(_ttp.Encrypt("A7"), out var alspac));
        Assert.Equal(PermissionFlags.Active, alspac);
        Assert.True(set.TryGetFlags(_ttp.Encrypt("M4999"), out var mcs));
        Assert.Equal(PermissionFlags.Active | PermissionFlags.SmallArea, mcs);
        Assert.Equal(["ttp-v7"], set.TokenKeyVersions);
        for (int i = 0; i < 5000; i++)
        {
            Assert.True(set.TryGetFlags(_ttp.Encrypt($"M{i}"), out _));
        }
    }

    [Fact]
    public async Task A_batched_lookup_gives_what_one_by_one_lookups_give()
    {
        var alspac = await ReadAsync(await WriteAsync(Writer("ALSPAC", 2, 100, PermissionFlags.Active, "A")));
        var mcs = await ReadAsync(await WriteAsync(Writer("MCS", 5, 5000, PermissionFlags.Active | PermissionFlags.SmallArea, "M")));
        var set = PermissionSnapshotSet.Merge([alspac, mcs]);
        var tokens = Enumerable.Range(0, 6000)
            .Select(i => TokenBytes.Parse(_ttp.Encrypt(i % 3 == 0 ? $"A{i % 150}" : i % 3 == 1 ? $"M{i}" : $"NOBODY{i}")))
            .Append(default)
            .ToArray();
        int[] flags = new int[tokens.Length];

        set.GetFlags(tokens, flags);

        int found = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            bool known = set.TryGetFlags(tokens[i], out var one);
            Assert.Equal(known ? (int)one : -1, flags[i]);
            found += known ? 1 : 0;
        }

        Assert.InRange(found, 1000, tokens.Length - 1000); // both known and unknown tokens were looked up
    }

    [Fact]
    public void Flags_are_built_from_file1_fields_including_the_national_opt_out_rule()
    {
        var s251OptedOut = PermissionFlagsFromFile1.Build("1", "1", "0", "0", "0", "2", "1", "0", "0", "0", "0", "0", "1", onNationalOptOutList: true);
        var consentedOnList = PermissionFlagsFromFile1.Build("1", "1", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0", onNationalOptOutList: true);
        var withdrawn = PermissionFlagsFromFile1.Build("0", "1", "1", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", onNationalOptOutList: false);

        Assert.Equal(
            PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.GeocodingPostcode | PermissionFlags.GeocodingFullAddress |
            PermissionFlags.SmallArea | PermissionFlags.NationalOptOutApplies,
            s251OptedOut);
        Assert.Equal(PermissionFlags.Active | PermissionFlags.NhsE | PermissionFlags.GeocodingPostcode, consentedOnList);
        Assert.Equal(0, (int)(withdrawn & PermissionFlags.Active));
    }

    [Fact]
    public void Token_bytes_agree_with_the_token_codec()
    {
        string token = _ttp.Encrypt("X");
        Span<byte> raw = stackalloc byte[16];
        TokenCodec.Decode(token, raw);

        var parsed = TokenBytes.Parse(token);

        Assert.Equal(TokenBytes.FromBytes(raw), parsed);
        Assert.Equal(token, parsed.ToString());
        Assert.False(TokenBytes.TryParse("short", out _));
    }
}
