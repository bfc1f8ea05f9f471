using System.Security.Cryptography;
using System.Text;
using Azure.Core.Cryptography;
using Linkage.Keys;

namespace Linkage.Azure.Keys;

/// <summary>
/// Dedicated key-encryption keys for some purposes (projects), so that crypto-shredding can also destroy the KEK:
/// once it is gone, even a wrapped data key restored from a database backup cannot be unwrapped.
/// </summary>
public interface IPurposeKeyEncryptionKeys
{
    /// <summary>Whether this purpose gets a dedicated KEK (by default: project purposes).</summary>
    bool Covers(string purpose);

    /// <summary>The purpose's current KEK, created on first use.</summary>
    Task<IKeyEncryptionKey> GetOrCreateAsync(string purpose, CancellationToken cancellationToken);

    /// <summary>Destroys the purpose's KEK permanently (delete and purge).</summary>
    Task DestroyAsync(string purpose, CancellationToken cancellationToken);
}

/// <summary>Naming shared by the implementations: purposes contain characters Key Vault names do not allow.</summary>
public static class PurposeKekNames
{
    /// <summary><c>kek-</c> + 40 hex characters of SHA-256(purpose): valid Key Vault and file names, collision-free in practice.</summary>
    public static string For(string purpose)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        return "kek-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(purpose)).AsSpan(0, 20));
    }

    public static bool IsProjectPurpose(string purpose) =>
        purpose.StartsWith("project-id:", StringComparison.Ordinal) || purpose.StartsWith("project-geo:", StringComparison.Ordinal);
}

/// <summary>One Key Vault key per project purpose; destroyed by delete + purge.</summary>
public sealed class KeyVaultPurposeKeys(KeyVaultKeyClient client, int keySize = 3072) : IPurposeKeyEncryptionKeys
{
    public bool Covers(string purpose) => PurposeKekNames.IsProjectPurpose(purpose);

    public async Task<IKeyEncryptionKey> GetOrCreateAsync(string purpose, CancellationToken cancellationToken)
    {
        var name = PurposeKekNames.For(purpose);
        KeyVaultKey key;
        try
        {
            key = await client.GetKeyAsync(name, cancellationToken);
        }
        catch (KeyVaultException e) when (e.Status == 404)
        {
            key = await client.CreateKeyAsync(name, cancellationToken, keySize: keySize);
        }

        return new KeyVaultKeyEncryptionKey(client, key.KeyId);
    }

    public async Task DestroyAsync(string purpose, CancellationToken cancellationToken)
    {
        var name = PurposeKekNames.For(purpose);
        if (await client.DeleteKeyAsync(name, cancellationToken))
        {
            await client.PurgeDeletedKeyAsync(name, cancellationToken);
        }
    }
}

/// <summary>Development: one local KEK folder per project purpose; destroyed by overwriting and deleting its files.</summary>
public sealed class LocalPurposeKeys(LocalKeyEncryptionKeyOptions? options = null) : IPurposeKeyEncryptionKeys
{
    private readonly LocalKeyEncryptionKeyOptions _options = options ?? new LocalKeyEncryptionKeyOptions();

    public bool Covers(string purpose) => PurposeKekNames.IsProjectPurpose(purpose);

    public Task<IKeyEncryptionKey> GetOrCreateAsync(string purpose, CancellationToken cancellationToken) =>
        Task.FromResult<IKeyEncryptionKey>(LocalKeyEncryptionKey.GetOrCreate(PurposeKekNames.For(purpose), _options));

    public Task DestroyAsync(string purpose, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_options.Folder, PurposeKekNames.For(purpose));
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.GetFiles(folder))
            {
                // Overwrite before deleting (best effort on journalling/SSD storage; Key Vault purge is the real thing).
                File.WriteAllBytes(file, new byte[new FileInfo(file).Length]);
                File.Delete(file);
            }

            Directory.Delete(folder);
        }

        return Task.CompletedTask;
    }
}
