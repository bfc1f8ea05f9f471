using System.Security.Cryptography;
using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

public sealed class AesKeyWrapTests
{
    [Fact]
    public void Rfc3394_4_6_wrap_256_bits_of_key_data_with_a_256_bit_KEK()
    {
        var kek = Convert.FromHexString("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
        var key = Convert.FromHexString("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
        var wrapped = AesKeyWrap.Wrap(kek, key);
        Assert.Equal("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21", Convert.ToHexString(wrapped));
        Assert.Equal(key, AesKeyWrap.Unwrap(kek, wrapped));
    }

    [Fact]
    public void A_wrong_KEK_or_a_tampered_wrap_fails_the_integrity_check()
    {
        var kek = RandomNumberGenerator.GetBytes(32);
        var wrapped = AesKeyWrap.Wrap(kek, RandomNumberGenerator.GetBytes(32));
        Assert.Throws<CryptographicException>(() => AesKeyWrap.Unwrap(RandomNumberGenerator.GetBytes(32), wrapped));
        wrapped[5] ^= 1;
        Assert.Throws<CryptographicException>(() => AesKeyWrap.Unwrap(kek, wrapped));
    }
}
