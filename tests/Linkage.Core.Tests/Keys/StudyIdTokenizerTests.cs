using System.Security.Cryptography;
using System.Text;
using Linkage.Keys;

namespace Linkage.Core.Tests.Keys;

public sealed class StudyIdTokenizerTests
{
    private static readonly byte[] TtpKey = BlockTokenCipherTests.Key(11);

    [Fact]
    public void Short_study_ids_round_trip_deterministically()
    {
        using var tokenizer = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        var token = tokenizer.Tokenize("ALSPAC", "A000123");
        Assert.Equal(22, token.Length);
        Assert.Equal(token, tokenizer.Tokenize("ALSPAC", "A000123"));
        Assert.True(tokenizer.TryDetokenize("ALSPAC", token, out var back));
        Assert.Equal("A000123", back);
        Assert.Equal("ttp-person/v1", tokenizer.KeyVersion);
    }

    [Fact]
    public void The_same_study_id_in_two_studies_gives_unlinkable_tokens()
    {
        using var tokenizer = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        var ids = Enumerable.Range(0, 1000).Select(i => $"{i:D6}").ToArray();
        var alspac = ids.Select(id => tokenizer.Tokenize("ALSPAC", id)).ToHashSet();
        var ukhls = ids.Select(id => tokenizer.Tokenize("UKHLS", id)).ToHashSet();
        Assert.Empty(alspac.Intersect(ukhls));
        // …and another study's token does not detokenise to the id (wrong subkey).
        var token = tokenizer.Tokenize("UKHLS", "000042");
        Assert.False(tokenizer.TryDetokenize("ALSPAC", token, out var other) && other == "000042");
    }

    [Fact]
    public void The_per_study_subkey_is_HKDF_SHA256_of_the_TTP_key_with_the_study_in_info()
    {
        var subkey = HKDF.DeriveKey(HashAlgorithmName.SHA256, TtpKey, 32, [], Encoding.UTF8.GetBytes("ttp-person:BCS70"));
        using var expected = new BlockTokenCipher(subkey, "x/v1");
        using var tokenizer = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        Assert.Equal(expected.Encrypt("B-77"), tokenizer.Tokenize("BCS70", "B-77"));
    }

    [Fact]
    public void Long_study_ids_get_fixed_length_deterministic_tokens_that_do_not_detokenise()
    {
        using var tokenizer = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        var longId = new string('9', 40) + "000042"; // 46 chars: varchar(50) allows it
        var token = tokenizer.Tokenize("UKBB", longId);
        Assert.Equal(22, token.Length);
        Assert.Equal(token, tokenizer.Tokenize("UKBB", longId));
        Assert.NotEqual(token, tokenizer.Tokenize("UKBB", longId + "1"));
        Assert.NotEqual(token, tokenizer.Tokenize("UKBB", longId[..15])); // 0xFF marker keeps the forms apart
        Assert.False(tokenizer.TryDetokenize("UKBB", token, out _));

        // The digest form is exactly 0xFF + first 15 bytes of SHA-256, encrypted under the study subkey.
        var block = new byte[16];
        block[0] = 0xFF;
        SHA256.HashData(Encoding.UTF8.GetBytes(longId)).AsSpan(0, 15).CopyTo(block.AsSpan(1));
        var subkey = HKDF.DeriveKey(HashAlgorithmName.SHA256, TtpKey, 32, [], Encoding.UTF8.GetBytes("ttp-person:UKBB"));
        using var expected = new BlockTokenCipher(subkey, "x/v1");
        expected.EncryptBlocks(block, block);
        Assert.Equal(TokenCodec.Encode(block), token);
    }

    [Fact]
    public void Batch_tokenisation_matches_single_and_many_long_ids_do_not_collide()
    {
        using var tokenizer = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        var ids = Enumerable.Range(0, 200_000).Select(i => i % 2 == 0 ? $"S{i}" : $"LONG-STUDY-IDENTIFIER-{i:D12}").ToArray();
        var tokens = new string[ids.Length];
        tokenizer.TokenizeBatch("TEDS", ids, tokens);
        Assert.Equal(ids.Length, tokens.Distinct(StringComparer.Ordinal).Count());
        for (var i = 0; i < ids.Length; i += 997)
        {
            Assert.Equal(tokenizer.Tokenize("TEDS", ids[i]), tokens[i]);
        }
    }

    [Fact]
    public void Different_TTP_keys_give_different_tokens()
    {
        using var v1 = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        using var v2 = new StudyIdTokenizer(BlockTokenCipherTests.Key(12), "ttp-person/v2");
        Assert.NotEqual(v1.Tokenize("MCS", "M1"), v2.Tokenize("MCS", "M1"));
    }

    [Fact]
    public void Empty_ids_and_disposed_tokenizers_are_refused()
    {
        var tokenizer = new StudyIdTokenizer(TtpKey, "ttp-person/v1");
        Assert.Throws<TokenInputException>(() => tokenizer.Tokenize("MCS", ""));
        tokenizer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => tokenizer.Tokenize("MCS", "M1"));
    }
}
