namespace Linkage.Keys;

// CONTRACT STUB — owned by the keys work (issue 3), which replaces the bodies. Signatures are shared with File 2.
/// <summary>
/// Deterministic, keyed, reversible AES-256 single-block tokens: a value of at most 15 UTF-8 bytes (or a 16-byte
/// token of another layer) becomes a 22-character URL-safe token.
/// </summary>
public sealed class BlockTokenCipher : IDisposable
{
    public const int TokenChars = 22;

    public BlockTokenCipher(ReadOnlySpan<byte> key, string keyVersion)
    {
        _ = key;
        KeyVersion = keyVersion;
    }

    public string KeyVersion { get; }

    public string Encrypt(ReadOnlySpan<char> text) => throw new NotImplementedException();

    public string Decrypt(ReadOnlySpan<char> token) => throw new NotImplementedException();

    /// <summary>Encrypts another layer's 22-char token (its 16 raw bytes) under this key: no plaintext involved.</summary>
    public string ReencryptToken(ReadOnlySpan<char> token) => throw new NotImplementedException();

    public string DecryptToToken(ReadOnlySpan<char> token) => throw new NotImplementedException();

    public void EncryptBatch(ReadOnlySpan<string> texts, Span<string> tokens) => throw new NotImplementedException();

    public void ReencryptTokenBatch(ReadOnlySpan<string> tokens, Span<string> output) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
