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
    [InlineData("AAA+AAAAAAAAAAAAAAAAAA")] // invalid characters inside the vectorised first 16
    [InlineData(".AAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAéAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAA=AAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAA/AAAA")]
    public void Malformed_tokens_are_rejected(string token)
    {
        Assert.False(TokenCodec.TryDecode(token, new byte[16]));
        Assert.False(TokenCodec.TryDecodeUtf8(System.Text.Encoding.UTF8.GetBytes(token), new byte[16]));
    }

    [Fact]
    public void Decoding_agrees_with_a_reference_on_random_near_tokens()
    {
        // Random 22-character strings over the alphabet plus a few intruders: accept exactly the canonical tokens.
        const string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. é";
        var random = new Random(3);
        var block = new byte[16];
        Span<char> token = stackalloc char[22];
        var accepted = 0;
        for (var i = 0; i < 200_000; i++)
        {
            for (var j = 0; j < 22; j++)
            {
                token[j] = chars[random.Next(i % 2 == 0 ? 64 : chars.Length)];
            }

            var canonical = token.IndexOfAnyExcept(chars.AsSpan(0, 64)) < 0 && "AQgw".Contains(token[21], StringComparison.Ordinal);
            Assert.Equal(canonical, TokenCodec.TryDecode(token, block));
            Assert.Equal(canonical, TokenCodec.TryDecodeUtf8(System.Text.Encoding.UTF8.GetBytes(token.ToArray()), block));
            if (canonical)
            {
                accepted++;
                Assert.Equal(System.Buffers.Text.Base64Url.DecodeFromChars(token), block);
            }
        }

        Assert.True(accepted > 5_000, $"only {accepted} canonical tokens generated");
    }
}

public sealed class TokenCodecVectorPathTests
{
    [Fact]
    public void The_vector_and_table_paths_agree_on_random_blocks_and_on_every_byte_in_every_position()
    {
        var random = new Random(11);
        var block = new byte[16];
        var vectorBack = new byte[16];
        var scalarBack = new byte[16];
        var vector = new char[24];
        var scalar = new char[24];
        for (var i = 0; i < 20_000 + (256 * 16); i++)
        {
            if (i < 20_000)
            {
                random.NextBytes(block);
            }
            else
            {
                // Every byte value in every position (the rest zero, then the rest 0xFF).
                var k = i - 20_000;
                block.AsSpan().Fill((byte)(k % 2 == 0 ? 0 : 0xFF));
                block[k / 256 % 16] = (byte)(k % 256);
            }

            // Sentinels past the 22nd character must survive the vector path's stores.
            vector[22] = vector[23] = '#';
            TokenCodec.Encode(block, vector);
            TokenCodec.EncodeScalar(block, scalar);
            Assert.Equal(new string(scalar, 0, 22), new string(vector, 0, 22));
            Assert.Equal('#', vector[22]);
            Assert.Equal('#', vector[23]);
            Assert.True(TokenCodec.TryDecode(vector.AsSpan(0, 22), vectorBack));
            Assert.True(TokenCodec.TryDecodeScalar(scalar.AsSpan(0, 22), scalarBack));
            Assert.Equal(block, vectorBack);
            Assert.Equal(block, scalarBack);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_vector_and_table_decoders_accept_and_reject_the_same_near_tokens(bool ssse3Only)
    {
        // Both vector decoders where the CPU has them: the AVX2 one (one 256-bit pass) and the SSSE3 one (two 128-bit).
        TokenCodec.ForceSsse3 = ssse3Only;
        try
        {
            NearTokens();
        }
        finally
        {
            TokenCodec.ForceSsse3 = false;
        }
    }

    private static void NearTokens()
    {
        // Every position gets every character below U+0180 (covering non-ASCII that narrows onto an alphabet byte).
        var random = new Random(5);
        var block = new byte[16];
        Span<byte> vectorOut = stackalloc byte[16];
        Span<byte> scalarOut = stackalloc byte[16];
        Span<char> token = stackalloc char[22];
        for (var position = 0; position < 22; position++)
        {
            for (var ch = 0; ch < 0x180; ch++)
            {
                random.NextBytes(block);
                TokenCodec.EncodeScalar(block, token);
                token[position] = (char)ch;
                var vector = TokenCodec.TryDecode(token, vectorOut);
                var scalar = TokenCodec.TryDecodeScalar(token, scalarOut);
                Assert.Equal(scalar, vector);
                if (scalar)
                {
                    Assert.True(vectorOut.SequenceEqual(scalarOut));
                    Assert.Equal(System.Buffers.Text.Base64Url.DecodeFromChars(token), vectorOut.ToArray());
                }
            }
        }
    }

    [Fact]
    public void The_table_decoder_rejects_what_the_tests_of_the_public_decoder_reject()
    {
        foreach (var token in new[] { "AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAA+A", "AAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAé_", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA" })
        {
            Assert.False(TokenCodec.TryDecodeScalar(token, new byte[16]));
        }

        Assert.True(TokenCodec.TryDecodeScalar("AAAAAAAAAAAAAAAAAAAAAw", new byte[16]));
    }
}
