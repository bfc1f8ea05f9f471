using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

public sealed class TokenCodecTests
{
    [Fact]
    public void Sixteen_bytes_round_trip_through_22_url_safe_characters()
    {
        var random = new Random(7);
        var block = new byte[16];
        var back = new byte[16];
        Span<char> chars = stackalloc char[22];
        Span<byte> utf8 = stackalloc byte[22];
        for (var i = 0; i < 10_000; i++)
        {
            random.NextBytes(block);
            TokenCodec.Encode(block, chars);
            Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(block), chars.ToString());
            Assert.True(chars.IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0);
            Assert.True(TokenCodec.TryDecode(chars, back));
            Assert.Equal(block, back);
            TokenCodec.EncodeUtf8(block, utf8);
            Assert.True(TokenCodec.TryDecodeUtf8(utf8, back));
            Assert.Equal(block, back);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA")] // 21
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAA")] // 23
    [InlineData("AAAAAAAAAAAAAAAAAAAAAB")] // non-canonical last character
    [InlineData("AAAAAAAAAAAAAAAAAAAA+A")] // base64, not base64url
    [InlineData("AAAAAAAAAA AAAAAAAAAAA")] // whitespace
    [InlineData("AAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAé_")] // non-ASCII
    [InlineData("AAAAAAAAAAAAAAAAAAAA\0A")]
    public void Malformed_tokens_are_rejected(string token)
    {
        Assert.False(TokenCodec.TryDecode(token, new byte[16]));
        Assert.False(TokenCodec.TryDecodeUtf8(System.Text.Encoding.UTF8.GetBytes(token), new byte[16]));
    }
}
