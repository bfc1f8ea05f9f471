using System.Security.Cryptography;
using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

public sealed class BlockTokenCipherTests
{
    internal static byte[] Key(int seed)
    {
        var key = new byte[32];
        new Random(seed).NextBytes(key);
        return key;
    }

    [Theory]
    [InlineData("E01012345")]
    [InlineData("W01000001")]
    [InlineData("a")]
    [InlineData("123456789012345")] // 15 bytes: the most one block holds
    [InlineData("Zoë-Łódź")] // non-ASCII, 11 UTF-8 bytes
    public void Values_round_trip_and_are_deterministic(string value)
    {
        using var cipher = new BlockTokenCipher(Key(1), "tre-geography/v1");
        var token = cipher.Encrypt(value);
        Assert.Equal(BlockTokenCipher.TokenChars, token.Length);
        Assert.Equal(token, cipher.Encrypt(value));
        Assert.Equal(value, cipher.Decrypt(token));
    }

    [Fact]
    public void Different_keys_give_different_tokens_and_a_token_does_not_decrypt_under_another_key()
    {
        using var a = new BlockTokenCipher(Key(1), "k/v1");
        using var b = new BlockTokenCipher(Key(2), "k/v2");
        var wrongKeyFailures = 0;
        for (var i = 0; i < 1000; i++)
        {
            var value = $"E0{i:D7}";
            var token = a.Encrypt(value);
            Assert.NotEqual(token, b.Encrypt(value));
            try
            {
                Assert.NotEqual(value, b.Decrypt(token));
            }
            catch (InvalidTokenException)
            {
                wrongKeyFailures++;
            }
        }

        // Unauthenticated single blocks: a wrong key almost always fails the padding check (~1/256 slip through as junk).
        Assert.True(wrongKeyFailures > 950, $"only {wrongKeyFailures} of 1000 wrong-key decryptions were rejected");
    }

    [Theory]
    [InlineData("")]
    [InlineData("1234567890123456")] // 16 bytes
    [InlineData("ÉÉÉÉÉÉÉÉ")] // 8 chars, 16 UTF-8 bytes
    public void Values_that_do_not_fit_one_block_are_rejected_without_echoing_them(string value)
    {
        using var cipher = new BlockTokenCipher(Key(1), "k/v1");
        var error = Assert.Throws<TokenInputException>(() => cipher.Encrypt(value));
        if (value.Length > 0)
        {
            Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reencrypting_a_token_adds_a_layer_that_DecryptToToken_removes()
    {
        using var ttp = new BlockTokenCipher(Key(1), "ttp/v1");
        using var processor = new BlockTokenCipher(Key(2), "processor-id/v1");
        var ttpToken = ttp.Encrypt("ALSPAC-000042");
        var treId = processor.ReencryptToken(ttpToken);
        Assert.NotEqual(ttpToken, treId);
        Assert.Equal(22, treId.Length);
        Assert.Equal(ttpToken, processor.DecryptToToken(treId));
        Assert.Throws<InvalidTokenException>(() => processor.ReencryptToken("not-a-token"));
    }

    [Fact]
    public void Batch_methods_agree_with_single_value_methods_across_chunk_boundaries()
    {
        using var cipher = new BlockTokenCipher(Key(3), "k/v1");
        var values = Enumerable.Range(0, 10_000).Select(i => $"E{i:D8}").ToArray();
        var tokens = new string[values.Length];
        cipher.EncryptBatch(values, tokens);
        Assert.Equal(values.Select(v => cipher.Encrypt(v)), tokens);

        var layered = new string[values.Length];
        cipher.ReencryptTokenBatch(tokens, layered);
        Assert.Equal(tokens.Select(t => cipher.ReencryptToken(t)), layered);

        var unlayered = new string[values.Length];
        cipher.DecryptToTokenBatch(layered, unlayered);
        Assert.Equal(tokens, unlayered);

        var decrypted = new string[values.Length];
        cipher.DecryptBatch(tokens, decrypted);
        Assert.Equal(values, decrypted);
    }

    [Fact]
    public void Key_must_be_256_bits()
    {
        Assert.Throws<ArgumentException>(() => new BlockTokenCipher(new byte[16], "k/v1"));
    }

    [Fact]
    public void Ten_million_distinct_ids_give_ten_million_distinct_tokens()
    {
        // The batch path the hot paths use: pad into N×16 bytes, one AES call per 64K blocks, compare the token blocks
        // (the text encoding is a bijection, tested in TokenCodecTests). Ids of varying length and alphabet.
        const int count = 10_000_000;
        const int chunk = 65_536;
        using var cipher = new BlockTokenCipher(Key(4), "k/v1");
        var tokens = new UInt128[count];
        var blocks = new byte[chunk * 16];
        Span<char> id = stackalloc char[15];
        for (var start = 0; start < count; start += chunk)
        {
            var n = Math.Min(chunk, count - start);
            for (var i = 0; i < n; i++)
            {
                var value = start + i;
                var prefix = (value % 3) switch { 0 => "P", 1 => "ID-", _ => "x" };
                prefix.CopyTo(id);
                value.TryFormat(id[prefix.Length..], out var digits);
                Assert.True(BlockPadding.TryPad(id[..(prefix.Length + digits)], blocks.AsSpan(i * 16, 16)));
            }

            cipher.EncryptBlocks(blocks.AsSpan(0, n * 16), blocks.AsSpan(0, n * 16));
            for (var i = 0; i < n; i++)
            {
                tokens[start + i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(blocks.AsSpan(i * 16, 16));
            }
        }

        Array.Sort(tokens);
        for (var i = 1; i < count; i++)
        {
            Assert.True(tokens[i] != tokens[i - 1], "two distinct ids gave the same token");
        }
    }

    [Fact]
    public void Blocks_decrypt_back_in_batches()
    {
        using var cipher = new BlockTokenCipher(Key(5), "k/v1");
        var plain = RandomNumberGenerator.GetBytes(16 * 1000);
        var buffer = (byte[])plain.Clone();
        cipher.EncryptBlocks(buffer, buffer);
        Assert.NotEqual(plain, buffer);
        cipher.DecryptBlocks(buffer, buffer);
        Assert.Equal(plain, buffer);
        Assert.Throws<ArgumentException>(() => cipher.EncryptBlocks(new byte[15], new byte[15]));
    }
}

public sealed class BlockPaddingTests
{
    [Fact]
    public void Padding_from_a_wide_buffer_matches_padding_the_value_alone()
    {
        var random = new Random(9);
        const string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-éŁ€";
        var buffer = new char[22];
        var expected = new byte[16];
        var actual = new byte[16];
        for (var i = 0; i < 100_000; i++)
        {
            for (var j = 0; j < buffer.Length; j++)
            {
                buffer[j] = chars[random.Next(i % 3 == 0 ? chars.Length : 36)];
            }

            var length = random.Next(0, 18);
            var ok = BlockPadding.TryPad(buffer.AsSpan(0, Math.Min(length, buffer.Length)), expected);
            Array.Fill(actual, (byte)0xAA);
            Assert.Equal(ok, BlockPadding.TryPadFromBuffer(buffer, length, actual));
            if (ok)
            {
                Assert.Equal(expected, actual);
                Assert.True(BlockPadding.TryUnpadText(actual, out var text));
                Assert.Equal(new string(buffer, 0, length), text);
            }
        }
    }
}
