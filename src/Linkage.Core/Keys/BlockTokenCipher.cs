using System.Buffers;
using System.Security.Cryptography;

namespace Linkage.Keys;

/// <summary>
/// Deterministic, keyed, reversible AES-256 single-block tokens: a value of at most 15 UTF-8 bytes (or a 16-byte
/// token of another layer) becomes a 22-character URL-safe token (see <see cref="TokenCodec"/>).
/// </summary>
/// <remarks>
/// <para>Each token is one AES-256 block (ECB over independent blocks is exactly "AES as a pseudorandom permutation",
/// which is what a deterministic single-block token is). Same value + key → same token; different keys → unrelated
/// tokens. Tokens are not authenticated: decrypting with the wrong key usually fails the padding check
/// (<see cref="InvalidTokenException"/>) but is not guaranteed to, so outputs record <see cref="KeyVersion"/>.</para>
/// <para>Fastest API, for hot paths (File 2 intake): <see cref="EncryptBlocks"/> / <see cref="DecryptBlocks"/> over a
/// <c>Span&lt;byte&gt;</c> of N×16 bytes (one native call per batch — batch thousands), filled with
/// <see cref="BlockPadding.TryPad"/> or <see cref="TokenCodec.TryDecode"/> and written back with
/// <see cref="TokenCodec.Encode(ReadOnlySpan{byte}, Span{char})"/>; <see cref="CsvTokenRewriter"/> does exactly this
/// for CSV columns. The string methods allocate one string per token and suit small volumes.</para>
/// <para>Not thread-safe: use one instance per thread (instances are cheap). Dispose zeroes the key schedule.</para>
/// </remarks>
public sealed class BlockTokenCipher : IDisposable
{
    public const int TokenChars = 22;

    /// <summary>Blocks per native call in the string batch methods; bounds their scratch memory to 64 KiB.</summary>
    private const int ChunkBlocks = 4096;

    private readonly Aes _aes;

    public BlockTokenCipher(ReadOnlySpan<byte> key, string keyVersion)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("An AES-256 data key is 32 bytes.", nameof(key));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(keyVersion);
        _aes = Aes.Create();
        var copy = key.ToArray();
        try
        {
            _aes.Key = copy;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }

        KeyVersion = keyVersion;
    }

    /// <summary>The data-key version that makes this cipher's tokens; record it beside every output.</summary>
    public string KeyVersion { get; }

    public string Encrypt(ReadOnlySpan<char> text)
    {
        Span<byte> block = stackalloc byte[16];
        BlockPadding.Pad(text, block);
        _aes.EncryptEcb(block, block, PaddingMode.None);
        return TokenCodec.Encode(block);
    }

    public string Decrypt(ReadOnlySpan<char> token)
    {
        Span<byte> block = stackalloc byte[16];
        TokenCodec.Decode(token, block);
        _aes.DecryptEcb(block, block, PaddingMode.None);
        if (!BlockPadding.TryUnpadText(block, out var text))
        {
            throw new InvalidTokenException("The token does not decrypt to a value under this key.");
        }

        return text;
    }

    /// <summary>Encrypts another layer's 22-char token (its 16 raw bytes) under this key: no plaintext involved.</summary>
    public string ReencryptToken(ReadOnlySpan<char> token)
    {
        Span<byte> block = stackalloc byte[16];
        TokenCodec.Decode(token, block);
        _aes.EncryptEcb(block, block, PaddingMode.None);
        return TokenCodec.Encode(block);
    }

    /// <summary>Inverse of <see cref="ReencryptToken"/>: removes this layer, giving back the inner layer's token.</summary>
    public string DecryptToToken(ReadOnlySpan<char> token)
    {
        Span<byte> block = stackalloc byte[16];
        TokenCodec.Decode(token, block);
        _aes.DecryptEcb(block, block, PaddingMode.None);
        return TokenCodec.Encode(block);
    }

    /// <summary>Encrypts N blocks (N×16 bytes) in one native call; <paramref name="destination"/> may be <paramref name="blocks"/>.</summary>
    public void EncryptBlocks(ReadOnlySpan<byte> blocks, Span<byte> destination)
    {
        CheckBlocks(blocks, destination);
        if (!blocks.IsEmpty)
        {
            _aes.EncryptEcb(blocks, destination, PaddingMode.None);
        }
    }

    /// <summary>Decrypts N blocks (N×16 bytes) in one native call; <paramref name="destination"/> may be <paramref name="blocks"/>.</summary>
    public void DecryptBlocks(ReadOnlySpan<byte> blocks, Span<byte> destination)
    {
        CheckBlocks(blocks, destination);
        if (!blocks.IsEmpty)
        {
            _aes.DecryptEcb(blocks, destination, PaddingMode.None);
        }
    }

    public void EncryptBatch(ReadOnlySpan<string> texts, Span<string> tokens) =>
        RunBatch(texts, tokens, Fill.PadText, encrypt: true, Emit.Token);

    public void ReencryptTokenBatch(ReadOnlySpan<string> tokens, Span<string> output) =>
        RunBatch(tokens, output, Fill.DecodeToken, encrypt: true, Emit.Token);

    public void DecryptBatch(ReadOnlySpan<string> tokens, Span<string> texts) =>
        RunBatch(tokens, texts, Fill.DecodeToken, encrypt: false, Emit.Text);

    public void DecryptToTokenBatch(ReadOnlySpan<string> tokens, Span<string> output) =>
        RunBatch(tokens, output, Fill.DecodeToken, encrypt: false, Emit.Token);

    public void Dispose() => _aes.Dispose();

    private enum Fill
    {
        PadText,
        DecodeToken,
    }

    private enum Emit
    {
        Token,
        Text,
    }

    private void RunBatch(ReadOnlySpan<string> input, Span<string> output, Fill fill, bool encrypt, Emit emit)
    {
        if (output.Length < input.Length)
        {
            throw new ArgumentException("The output span is shorter than the input.", nameof(output));
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(input.Length, ChunkBlocks) * 16);
        try
        {
            for (var start = 0; start < input.Length; start += ChunkBlocks)
            {
                var count = Math.Min(ChunkBlocks, input.Length - start);
                var blocks = buffer.AsSpan(0, count * 16);
                for (var i = 0; i < count; i++)
                {
                    var block = blocks.Slice(i * 16, 16);
                    if (fill == Fill.PadText)
                    {
                        BlockPadding.Pad(input[start + i], block);
                    }
                    else
                    {
                        TokenCodec.Decode(input[start + i], block);
                    }
                }

                if (encrypt)
                {
                    _aes.EncryptEcb(blocks, blocks, PaddingMode.None);
                }
                else
                {
                    _aes.DecryptEcb(blocks, blocks, PaddingMode.None);
                }

                for (var i = 0; i < count; i++)
                {
                    var block = blocks.Slice(i * 16, 16);
                    if (emit == Emit.Token)
                    {
                        output[start + i] = TokenCodec.Encode(block);
                    }
                    else if (BlockPadding.TryUnpadText(block, out var text))
                    {
                        output[start + i] = text;
                    }
                    else
                    {
                        throw new InvalidTokenException("A token does not decrypt to a value under this key.");
                    }
                }
            }
        }
        finally
        {
            // The scratch held plaintext blocks: clear before returning it to the shared pool.
            CryptographicOperations.ZeroMemory(buffer);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CheckBlocks(ReadOnlySpan<byte> blocks, Span<byte> destination)
    {
        if (blocks.Length % 16 != 0 || destination.Length < blocks.Length)
        {
            throw new ArgumentException("Blocks are a multiple of 16 bytes and the destination at least as long.");
        }
    }
}
