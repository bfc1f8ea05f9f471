using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

/// <summary>RFC 8452 Appendix C.2 (AEAD_AES_256_GCM_SIV) vectors through the same code path the cipher uses.</summary>
public sealed class GcmSivKnownAnswerTests
{
    [Theory]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000", "", "",
        "07f5f4169bbf55a8400cd47ea6fd400f")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000", "", "0100000000000000",
        "c2ef328e5c71c83b843122130f7364b761e0b97427e3df28")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000", "01", "0200000000000000",
        "1de22967237a813291213f267e3b452f02d01ae33e4ec854")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000", "01",
        "02000000000000000000000000000000" + "03000000000000000000000000000000",
        "07dad364bfc2b9da89116d7bef6daaaf6f255510aa654f920ac81b94e8bad365aea1bad12702e1965604374aab96dbbc")]
    [InlineData("bae8e37fc83441b16034566b7a806c46bb91c3c5aedb64a6c590bc84d1a5e269", "e4b47801afc0577e34699b9e", "4fbdc66f14", "671fdd",
        "0eaccb93da9bb81333aee0c785b240d319719d")]
    [InlineData("3c535de192eaed3822a2fbbe2ca9dfc88255e14a661b8aa82cc54236093bbc23", "688089e55540db1872504e1c",
        "734320ccc9d9bbbb19cb81b2af4ecbc3e72834321f7aa0f70b7282b4f33df23f167541", "ced532ce4159b035277d4dfbb7db62968b13cd4eec",
        "626660c26ea6612fb17ad91e8e767639edd6c9faee9d6c7029675b89eaf4ba1ded1a286594")]
    public void Rfc8452_C2_vectors_seal_and_open(string key, string nonce, string aad, string plaintext, string expected)
    {
        var sealedBytes = DeterministicSivCipher.Seal(Hex(key), Hex(nonce), Hex(aad), Hex(plaintext));
        Assert.Equal(expected, Convert.ToHexStringLower(sealedBytes));
        Assert.Equal(plaintext, Convert.ToHexStringLower(DeterministicSivCipher.Open(Hex(key), Hex(nonce), Hex(aad), sealedBytes)));
    }

    [Fact]
    public void A_flipped_bit_fails_authentication()
    {
        var key = Hex("bae8e37fc83441b16034566b7a806c46bb91c3c5aedb64a6c590bc84d1a5e269");
        var sealedBytes = Hex("0eaccb93da9bb81333aee0c785b240d319719d");
        sealedBytes[0] ^= 1;
        Assert.Throws<InvalidTokenException>(() =>
            DeterministicSivCipher.Open(key, Hex("e4b47801afc0577e34699b9e"), Hex("4fbdc66f14"), sealedBytes));
    }

    [Fact]
    public void Long_values_round_trip_deterministically_and_are_separated_by_key_and_context()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var other = Enumerable.Range(2, 32).Select(i => (byte)i).ToArray();
        using var cipher = new DeterministicSivCipher(key, "siv/v1", "ttp-person:ALSPAC");
        using var otherContext = new DeterministicSivCipher(key, "siv/v1", "ttp-person:UKHLS");
        using var otherKey = new DeterministicSivCipher(other, "siv/v2", "ttp-person:ALSPAC");
        var longId = "PARTICIPANT-" + new string('0', 36) + "42"; // 50 chars, varchar(50)
        var token = cipher.Encrypt(longId);
        Assert.Equal(token, cipher.Encrypt(longId));
        Assert.Equal(88, token.Length);
        Assert.DoesNotContain('=', token);
        Assert.Equal(longId, cipher.Decrypt(token));
        Assert.NotEqual(token, otherContext.Encrypt(longId));
        Assert.NotEqual(token, otherKey.Encrypt(longId));
        Assert.Throws<InvalidTokenException>(() => otherKey.Decrypt(token));
        Assert.Throws<InvalidTokenException>(() => otherContext.Decrypt(token));
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);
}
