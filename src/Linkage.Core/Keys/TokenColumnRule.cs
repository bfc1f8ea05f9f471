namespace Linkage.Keys;

/// <summary>What a <see cref="TokenColumnRule"/> does to each value of its column.</summary>
public enum TokenOperation
{
    /// <summary>Plain value of ≤ 15 UTF-8 bytes → token (e.g. LSOA → TRE geography token).</summary>
    EncryptText,

    /// <summary>Token → token one layer deeper (e.g. TTP id → TRE id under the processor key).</summary>
    AddLayer,

    /// <summary>Token → the inner layer's token (inverse of <see cref="AddLayer"/>).</summary>
    RemoveLayer,

    /// <summary>Decrypt under one key, encrypt under another (project layer, and re-keying to a new key version).</summary>
    Transcode,
}

/// <summary>One column rewritten by <see cref="CsvTokenRewriter"/>. Empty values stay empty (and are counted).</summary>
public sealed record TokenColumnRule(
    string Column,
    TokenOperation Operation,
    BlockTokenCipher Cipher,
    BlockTokenCipher? Then = null,
    string? OutputColumn = null)
{
    /// <summary>The key version that made this column's output tokens (or, for RemoveLayer, removed a layer).</summary>
    public string KeyVersion => (Then ?? Cipher).KeyVersion;

    public static TokenColumnRule EncryptText(string column, BlockTokenCipher cipher, string? outputColumn = null) =>
        new(column, TokenOperation.EncryptText, cipher, null, outputColumn);

    public static TokenColumnRule AddLayer(string column, BlockTokenCipher cipher, string? outputColumn = null) =>
        new(column, TokenOperation.AddLayer, cipher, null, outputColumn);

    public static TokenColumnRule RemoveLayer(string column, BlockTokenCipher cipher, string? outputColumn = null) =>
        new(column, TokenOperation.RemoveLayer, cipher, null, outputColumn);

    public static TokenColumnRule Transcode(string column, BlockTokenCipher from, BlockTokenCipher to, string? outputColumn = null) =>
        new(column, TokenOperation.Transcode, from, to, outputColumn);
}
