using System.Security.Cryptography;
using System.Text;

namespace Linkage.Keys;

/// <summary>
/// The trusted third party's person-id tokens: STUDY_ID → 22-char TTP-encrypted id, under a per-study subkey of the
/// TTP person-id key so that the same STUDY_ID in two studies gives unlinkable tokens.
/// </summary>
/// <remarks>
/// <para>Subkey = HKDF-SHA256(ikm = TTP person-id key, salt = none, info = "ttp-person:" + studyCode), 32 bytes; the
/// study code is used exactly as given (ordinal).</para>
/// <para>A STUDY_ID of at most 15 UTF-8 bytes is padded into one block (<see cref="BlockPadding"/>) and encrypted, so
/// <see cref="TryDetokenize"/> reverses it. A longer STUDY_ID (varchar(50) allows up to 50) is first reduced to
/// 0xFF followed by the first 15 bytes of SHA-256(UTF-8 STUDY_ID): deterministic and fixed-length, but only
/// reversible through the TTP's participant registry (a 120-bit digest; collisions are negligible). Padded UTF-8
/// never starts with 0xFF, so the two forms cannot collide.</para>
/// <para>Not thread-safe. Dispose zeroes the master key and every derived subkey.</para>
/// </remarks>
public sealed class StudyIdTokenizer : IDisposable
{
    private const string InfoPrefix = "ttp-person:";
    private readonly byte[] _masterKey;
    private readonly Dictionary<string, BlockTokenCipher> _perStudy = new(StringComparer.Ordinal);
    private bool _disposed;

    public StudyIdTokenizer(ReadOnlySpan<byte> ttpPersonKey, string keyVersion)
    {
        if (ttpPersonKey.Length != 32)
        {
            throw new ArgumentException("The TTP person-id key is 32 bytes.", nameof(ttpPersonKey));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(keyVersion);
        _masterKey = ttpPersonKey.ToArray();
        KeyVersion = keyVersion;
    }

    public string KeyVersion { get; }

    public string Tokenize(string studyCode, ReadOnlySpan<char> studyId)
    {
        Span<byte> block = stackalloc byte[16];
        ToBlock(studyId, block);
        var cipher = CipherFor(studyCode);
        cipher.EncryptBlocks(block, block);
        return TokenCodec.Encode(block);
    }

    /// <summary>The token's 16 raw bytes, without the text encoding (for the TTP's in-memory participant tables).</summary>
    public void TokenizeToBytes(string studyCode, ReadOnlySpan<char> studyId, Span<byte> token)
    {
        ToBlock(studyId, token[..16]);
        CipherFor(studyCode).EncryptBlocks(token[..16], token[..16]);
    }

    /// <summary>Tokenises many STUDY_IDs of one study with one native AES call per 4,096 ids.</summary>
    public void TokenizeBatch(string studyCode, ReadOnlySpan<string> studyIds, Span<string> tokens)
    {
        if (tokens.Length < studyIds.Length)
        {
            throw new ArgumentException("The output span is shorter than the input.", nameof(tokens));
        }

        var cipher = CipherFor(studyCode);
        var blocks = new byte[Math.Min(studyIds.Length, 4096) * 16];
        try
        {
            for (var start = 0; start < studyIds.Length; start += 4096)
            {
                var count = Math.Min(4096, studyIds.Length - start);
                var span = blocks.AsSpan(0, count * 16);
                for (var i = 0; i < count; i++)
                {
                    ToBlock(studyIds[start + i], span.Slice(i * 16, 16));
                }

                cipher.EncryptBlocks(span, span);
                for (var i = 0; i < count; i++)
                {
                    tokens[start + i] = TokenCodec.Encode(span.Slice(i * 16, 16));
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(blocks);
        }
    }

    /// <summary>
    /// Recovers the STUDY_ID of a token made by this key for this study. False for tokens of long (digested)
    /// STUDY_IDs, for tokens of another study or key, and for malformed tokens.
    /// </summary>
    public bool TryDetokenize(string studyCode, ReadOnlySpan<char> token, out string studyId)
    {
        studyId = string.Empty;
        Span<byte> block = stackalloc byte[16];
        if (!TokenCodec.TryDecode(token, block))
        {
            return false;
        }

        CipherFor(studyCode).DecryptBlocks(block, block);
        var ok = BlockPadding.TryUnpadText(block, out studyId);
        CryptographicOperations.ZeroMemory(block);
        return ok;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        CryptographicOperations.ZeroMemory(_masterKey);
        foreach (var cipher in _perStudy.Values)
        {
            cipher.Dispose();
        }

        _perStudy.Clear();
    }

    private static void ToBlock(ReadOnlySpan<char> studyId, Span<byte> block)
    {
        if (studyId.IsEmpty)
        {
            throw new TokenInputException("A STUDY_ID must not be empty.");
        }

        if (BlockPadding.TryPad(studyId, block))
        {
            return;
        }

        // Longer than one block: a fixed-length digest form, marked by a leading 0xFF that UTF-8 never produces.
        var byteCount = Encoding.UTF8.GetByteCount(studyId);
        Span<byte> utf8 = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(studyId, utf8);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(utf8, digest);
        block[0] = 0xFF;
        digest[..15].CopyTo(block[1..16]);
        CryptographicOperations.ZeroMemory(utf8);
    }

    private BlockTokenCipher CipherFor(string studyCode)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrWhiteSpace(studyCode);
        if (_perStudy.TryGetValue(studyCode, out var cipher))
        {
            return cipher;
        }

        Span<byte> subkey = stackalloc byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _masterKey, subkey, ReadOnlySpan<byte>.Empty,
            Encoding.UTF8.GetBytes(InfoPrefix + studyCode));
        cipher = new BlockTokenCipher(subkey, KeyVersion);
        CryptographicOperations.ZeroMemory(subkey);
        _perStudy.Add(studyCode, cipher);
        return cipher;
    }
}
