using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Linkage.Keys;

/// <summary>AES Key Wrap (RFC 3394, JOSE "A256KW" with a 256-bit KEK) through BouncyCastle's <c>AesWrapEngine</c>.</summary>
public static class AesKeyWrap
{
    public const string Algorithm = "A256KW";

    public static byte[] Wrap(ReadOnlySpan<byte> kek, ReadOnlySpan<byte> key)
    {
        CheckKek(kek);
        if (key.Length < 16 || key.Length % 8 != 0)
        {
            throw new ArgumentException("RFC 3394 wraps keys of a multiple of 8 bytes, at least 16.", nameof(key));
        }

        var engine = new AesWrapEngine();
        engine.Init(true, new KeyParameter(kek));
        var input = key.ToArray();
        try
        {
            return engine.Wrap(input, 0, input.Length);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>Unwraps; throws <see cref="System.Security.Cryptography.CryptographicException"/> when the integrity check fails (wrong KEK or tampering).</summary>
    public static byte[] Unwrap(ReadOnlySpan<byte> kek, ReadOnlySpan<byte> wrapped)
    {
        CheckKek(kek);
        var engine = new AesWrapEngine();
        engine.Init(false, new KeyParameter(kek));
        var input = wrapped.ToArray();
        try
        {
            return engine.Unwrap(input, 0, input.Length);
        }
        catch (InvalidCipherTextException)
        {
            throw new System.Security.Cryptography.CryptographicException("The wrapped key does not unwrap under this key-encryption key.");
        }
    }

    private static void CheckKek(ReadOnlySpan<byte> kek)
    {
        if (kek.Length != 32)
        {
            throw new ArgumentException("A256KW uses a 32-byte key-encryption key.", nameof(kek));
        }
    }
}
