using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Linkage.Keys;

/// <summary>
/// Deterministic authenticated encryption for values longer than one block: AES-256-GCM-SIV (RFC 8452, BouncyCastle's
/// <c>GcmSivBlockCipher</c>) with a fixed all-zero nonce and a caller-chosen context as associated data.
/// </summary>
/// <remarks>
/// With a fixed nonce GCM-SIV is a deterministic AEAD (RFC 8452 §9: nonce reuse reveals only whether two
/// (context, value) pairs are equal, which is exactly the property a pseudonym needs). The token is
/// base64url(ciphertext ‖ 16-byte tag) without padding: ⌈4(n+16)/3⌉ characters for an n-byte UTF-8 value, e.g.
/// 43 characters for 16 bytes, 88 for 50. Tampered or wrong-key tokens fail authentication
/// (<see cref="InvalidTokenException"/>). Slower than <see cref="BlockTokenCipher"/> (managed AES); not for hot paths.
/// </remarks>
public sealed class DeterministicSivCipher : IDisposable
{
    private static readonly byte[] FixedNonce = new byte[12];
    private readonly byte[] _key;
    private readonly byte[] _context;

    /// <param name="key">32-byte data key.</param>
    /// <param name="keyVersion">The data-key version, recorded beside outputs.</param>
    /// <param name="context">Domain separation (e.g. the purpose and column): same value, different context → unlinkable tokens.</param>
    public DeterministicSivCipher(ReadOnlySpan<byte> key, string keyVersion, string context)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("An AES-256 data key is 32 bytes.", nameof(key));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(keyVersion);
        ArgumentNullException.ThrowIfNull(context);
        _key = key.ToArray();
        _context = Encoding.UTF8.GetBytes(context);
        KeyVersion = keyVersion;
    }

    public string KeyVersion { get; }

    public string Encrypt(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var plaintext = Encoding.UTF8.GetBytes(value);
        try
        {
            return Convert.ToBase64String(Seal(_key, FixedNonce, _context, plaintext))
                .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public string Decrypt(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        byte[] sealedBytes;
        try
        {
            sealedBytes = System.Buffers.Text.Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            throw new InvalidTokenException("Not a base64url token.");
        }

        var plaintext = Open(_key, FixedNonce, _context, sealedBytes);
        try
        {
            return new UTF8Encoding(false, true).GetString(plaintext);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidTokenException("The token does not decrypt to text.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);

    /// <summary>AES-GCM-SIV encryption (RFC 8452): ciphertext followed by the 16-byte tag.</summary>
    internal static byte[] Seal(byte[] key, byte[] nonce, byte[] associatedData, byte[] plaintext)
    {
        var cipher = new GcmSivBlockCipher();
        cipher.Init(true, new AeadParameters(new KeyParameter(key), 128, nonce, associatedData));
        var output = new byte[cipher.GetOutputSize(plaintext.Length)];
        var written = cipher.ProcessBytes(plaintext, 0, plaintext.Length, output, 0);
        cipher.DoFinal(output, written);
        return output;
    }

    /// <summary>AES-GCM-SIV decryption (RFC 8452); throws <see cref="InvalidTokenException"/> when the tag does not verify.</summary>
    internal static byte[] Open(byte[] key, byte[] nonce, byte[] associatedData, byte[] sealedBytes)
    {
        if (sealedBytes.Length < 16)
        {
            throw new InvalidTokenException("The token is too short to carry an authentication tag.");
        }

        var cipher = new GcmSivBlockCipher();
        cipher.Init(false, new AeadParameters(new KeyParameter(key), 128, nonce, associatedData));
        var output = new byte[cipher.GetOutputSize(sealedBytes.Length)];
        try
        {
            var written = cipher.ProcessBytes(sealedBytes, 0, sealedBytes.Length, output, 0);
            cipher.DoFinal(output, written);
        }
        catch (InvalidCipherTextException)
        {
            throw new InvalidTokenException("The token does not authenticate under this key and context.");
        }

        return output;
    }
}
