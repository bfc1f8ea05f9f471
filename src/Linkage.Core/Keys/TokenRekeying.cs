namespace Linkage.Keys;

/// <summary>
/// Re-keying stored tokens from an old data-key version to the new one after a rotation: each token is decrypted under
/// the old version and encrypted under the new one, streaming in batches through <see cref="CsvTokenRewriter"/>.
/// The value under the token never leaves the batch buffer.
/// </summary>
public static class TokenRekeying
{
    public static TokenColumnRule Rule(string column, BlockTokenCipher oldVersion, BlockTokenCipher newVersion) =>
        TokenColumnRule.Transcode(column, oldVersion, newVersion);

    /// <summary>Re-keys the given token columns of a CSV stream; the summary's key versions name the new version.</summary>
    public static Task<CsvRewriteSummary> RekeyCsvAsync(
        TextReader input,
        TextWriter output,
        IEnumerable<string> tokenColumns,
        BlockTokenCipher oldVersion,
        BlockTokenCipher newVersion,
        CancellationToken cancellationToken)
    {
        var rules = tokenColumns.Select(column => Rule(column, oldVersion, newVersion)).ToList();
        return new CsvTokenRewriter(rules).RewriteAsync(input, output, cancellationToken);
    }

    /// <summary>
    /// Re-keys tokens held elsewhere (e.g. in documents), 4,096 per pair of native calls: decode, decrypt under the old
    /// version, encrypt under the new, encode. Works for value tokens and layered tokens alike.
    /// </summary>
    public static void RekeyBatch(ReadOnlySpan<string> tokens, Span<string> output, BlockTokenCipher oldVersion, BlockTokenCipher newVersion)
    {
        ArgumentNullException.ThrowIfNull(oldVersion);
        ArgumentNullException.ThrowIfNull(newVersion);
        if (output.Length < tokens.Length)
        {
            throw new ArgumentException("The output span is shorter than the input.", nameof(output));
        }

        const int Chunk = 4096;
        var buffer = new byte[Math.Min(tokens.Length, Chunk) * 16];
        for (var start = 0; start < tokens.Length; start += Chunk)
        {
            var count = Math.Min(Chunk, tokens.Length - start);
            var blocks = buffer.AsSpan(0, count * 16);
            for (var i = 0; i < count; i++)
            {
                TokenCodec.Decode(tokens[start + i], blocks.Slice(i * 16, 16));
            }

            oldVersion.DecryptBlocks(blocks, blocks);
            newVersion.EncryptBlocks(blocks, blocks);
            for (var i = 0; i < count; i++)
            {
                output[start + i] = TokenCodec.Encode(blocks.Slice(i * 16, 16));
            }
        }

        System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
    }
}
