using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

/// <summary>The block path against the standards' AES-256 vectors.</summary>
public sealed class AesKnownAnswerTests
{
    [Fact]
    public void Fips197_appendix_C3_AES256()
    {
        using var cipher = new BlockTokenCipher(Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), "kat/v1");
        var plain = Convert.FromHexString("00112233445566778899aabbccddeeff");
        var output = new byte[16];
        cipher.EncryptBlocks(plain, output);
        Assert.Equal("8ea2b7ca516745bfeafc49904b496089", Convert.ToHexStringLower(output));
        cipher.DecryptBlocks(output, output);
        Assert.Equal(plain, output);
    }

    [Fact]
    public void Sp800_38A_F15_ECB_AES256_encrypt_and_decrypt_four_blocks_in_one_call()
    {
        using var cipher = new BlockTokenCipher(Convert.FromHexString("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"), "kat/v1");
        var plain = Convert.FromHexString(
            "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
            "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710");
        const string expected =
            "f3eed1bdb5d2a03c064b5a7e3db181f8" + "591ccb10d410ed26dc5ba74a31362870" +
            "b6ed21b99ca6f4f9f153e7b1beafed1d" + "23304b7a39f9f3ff067d8d8f9e24ecc7";
        var buffer = (byte[])plain.Clone();
        cipher.EncryptBlocks(buffer, buffer); // in place, as the hot path does
        Assert.Equal(expected, Convert.ToHexStringLower(buffer));
        cipher.DecryptBlocks(buffer, buffer);
        Assert.Equal(plain, buffer);
    }

    [Fact]
    public void A_token_is_the_base64url_of_the_AES_block_of_the_padded_value()
    {
        var key = Convert.FromHexString("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        using var cipher = new BlockTokenCipher(key, "kat/v1");
        // "E01012345" + 0x80 + zeros, encrypted by .NET's AES (independent of the token code) and base64url-encoded.
        var padded = new byte[16];
        "E01012345"u8.CopyTo(padded);
        padded[9] = 0x80;
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        var expected = Convert.ToBase64String(aes.EncryptEcb(padded, System.Security.Cryptography.PaddingMode.None))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, cipher.Encrypt("E01012345"));
    }
}
