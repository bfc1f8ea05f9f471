using Azure.Core.Cryptography;

namespace Linkage.Azure.Keys;

/// <summary>
/// A Key Vault key version as a key-encryption key: wraps and unwraps 256-bit data keys. RSA-OAEP-256 for vault keys,
/// A256KW for Managed HSM AES keys; the key never leaves the vault.
/// </summary>
public sealed class KeyVaultKeyEncryptionKey : IKeyEncryptionKey
{
    public const string RsaOaep256 = "RSA-OAEP-256";
    public const string AesKeyWrap256 = "A256KW";

    private readonly KeyVaultKeyClient _client;
    private readonly string _name;
    private readonly string _version;

    /// <param name="client">A client for the vault that holds the key.</param>
    /// <param name="keyId">The versioned key identifier <c>https://{vault}/keys/{name}/{version}</c>.</param>
    public KeyVaultKeyEncryptionKey(KeyVaultKeyClient client, string keyId)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (vault, name, version) = KeyVaultKey.ParseKeyId(keyId);
        if (vault != client.VaultUri)
        {
            // Never send a bearer token or a data key to a host other than the configured vault.
            throw new ArgumentException("The key identifier names a different vault from the client's.", nameof(keyId));
        }

        _client = client;
        _name = name;
        _version = version;
        KeyId = keyId;
    }

    public string KeyId { get; }

    public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        _client.WrapKey(_name, _version, algorithm, key, cancellationToken);

    public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        _client.WrapKeyAsync(_name, _version, algorithm, key, cancellationToken);

    public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
        _client.UnwrapKey(_name, _version, algorithm, encryptedKey, cancellationToken);

    public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
        _client.UnwrapKeyAsync(_name, _version, algorithm, encryptedKey, cancellationToken);
}

/// <summary>Resolves stored KEK ids to <see cref="KeyVaultKeyEncryptionKey"/>s of one vault (others are refused).</summary>
public sealed class KeyVaultKeyResolver(KeyVaultKeyClient client) : IKeyEncryptionKeyResolver
{
    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default) =>
        new KeyVaultKeyEncryptionKey(client, keyId);

    public Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IKeyEncryptionKey>(new KeyVaultKeyEncryptionKey(client, keyId));
}
