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
}
