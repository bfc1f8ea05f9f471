using System.Security.Cryptography;
using Azure.Core.Cryptography;
using Linkage.Keys;

namespace Linkage.Azure.Keys;

public sealed class KeyRingOptions
{
    /// <summary>The KEK algorithm: RSA-OAEP-256 for Key Vault keys, A256KW for Managed HSM or local keys.</summary>
    public string WrapAlgorithm { get; set; } = KeyVaultKeyEncryptionKey.RsaOaep256;

    /// <summary>
    /// How long an unwrapped key stays cached. A key destroyed by another instance stays usable here at most this long;
    /// destruction in this instance evicts at once.
    /// </summary>
    public TimeSpan CacheLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Dedicated KEKs for some purposes (projects), destroyed with them, so a backup of the key store cannot bring
    /// their keys back. Null: every purpose is wrapped by the ring's current KEK.
    /// </summary>
    public IPurposeKeyEncryptionKeys? PurposeKeks { get; set; }
}

/// <summary>No data key version with that number exists for the purpose.</summary>
public sealed class DataKeyNotFoundException(string purpose, int version)
    : KeyNotFoundException($"Data key '{purpose}' has no version {version}.");

/// <summary>
/// Envelope encryption of the pseudonymisation keys: per purpose, versioned 256-bit data keys, wrapped by a key-encryption
/// key (Key Vault, or local in development) and stored in Cosmos (<see cref="DataKeyStore"/>). Hands out ciphers, never raw
/// keys; unwrapped keys live only in this object's memory and are zeroed on eviction and disposal.
/// </summary>
/// <remarks>
/// New work always uses the active version (<see cref="GetCipherAsync(string, CancellationToken)"/>); older versions are
/// fetched by number to decrypt or re-key (<see cref="TokenRekeying"/>). Every cipher's <c>KeyVersion</c> is
/// <c>{purpose}/v{N}</c>, to be recorded beside its output. Thread-safe.
/// </remarks>
public sealed class KeyRing(
    DataKeyStore store,
    IKeyEncryptionKey currentKek,
    IKeyEncryptionKeyResolver kekResolver,
    KeyRingOptions? options = null,
    TimeProvider? time = null) : IDisposable
{
    private const int MaxAttempts = 10;
    private readonly KeyRingOptions _options = options ?? new KeyRingOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<(string Purpose, int Version), CachedKey> _cache = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>A cipher under the purpose's active key version, creating version 1 on first use.</summary>
    public async Task<BlockTokenCipher> GetCipherAsync(string purpose, CancellationToken cancellationToken)
    {
        var version = await GetActiveVersionAsync(purpose, cancellationToken);
        return await GetCipherAsync(purpose, version, cancellationToken);
    }

    /// <summary>A cipher under a specific (possibly retired) version, to decrypt or re-key its tokens.</summary>
    public async Task<BlockTokenCipher> GetCipherAsync(string purpose, int version, CancellationToken cancellationToken)
    {
        var key = await GetKeyAsync(purpose, version, cancellationToken);
        try
        {
            return new BlockTokenCipher(key, KeyPurposes.VersionLabel(purpose, version));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The TTP's STUDY_ID tokenizer under the active (or the given) version of the <c>ttp-person</c> key.</summary>
    public async Task<StudyIdTokenizer> GetStudyIdTokenizerAsync(CancellationToken cancellationToken, int? version = null)
    {
        var v = version ?? await GetActiveVersionAsync(KeyPurposes.TtpPerson, cancellationToken);
        var key = await GetKeyAsync(KeyPurposes.TtpPerson, v, cancellationToken);
        try
        {
            return new StudyIdTokenizer(key, KeyPurposes.VersionLabel(KeyPurposes.TtpPerson, v));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The TTP's manifest signer under the active version of the <c>ttp-manifest</c> key.</summary>
    public async Task<Linkage.Ttp.ManifestSigner> GetManifestSignerAsync(CancellationToken cancellationToken)
    {
        var v = await GetActiveVersionAsync(Linkage.Ttp.ManifestSigner.KeyPurpose, cancellationToken);
        var key = await GetKeyAsync(Linkage.Ttp.ManifestSigner.KeyPurpose, v, cancellationToken);
        try
        {
            return new Linkage.Ttp.ManifestSigner(key, KeyPurposes.VersionLabel(Linkage.Ttp.ManifestSigner.KeyPurpose, v));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The active version number, creating version 1 on first use. Throws <see cref="KeyDestroyedException"/> once destroyed.</summary>
    public async Task<int> GetActiveVersionAsync(string purpose, CancellationToken cancellationToken)
    {
        var head = await EnsureHeadAsync(purpose, cancellationToken);
        ThrowIfDestroyed(head.Document);
        return head.Document.ActiveVersion;
    }

    /// <summary>Makes a new active version for new work; the previous one becomes Retired (decrypt only). Returns the new version.</summary>
    public async Task<int> RotateAsync(string purpose, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (head, etag) = await EnsureHeadAsync(purpose, cancellationToken);
            ThrowIfDestroyed(head);
            var next = head.LatestVersion + 1;

            // If a concurrent or crashed rotation already made version `next`, adopt it rather than overwrite it.
            await CreateVersionAsync(purpose, next, cancellationToken);
            if (await store.TryReplaceAsync(head with { ActiveVersion = next, LatestVersion = next }, etag, cancellationToken))
            {
                await SetStateAsync(purpose, head.ActiveVersion, DataKeyState.Retired, cancellationToken);
                return next;
            }
        }

        throw new InvalidOperationException($"Could not rotate data key '{purpose}': the key record kept changing.");
    }

    /// <summary>
    /// Crypto-shredding: marks the purpose destroyed (no new versions can be made), deletes the wrapped material of every
    /// version, destroys the purpose's dedicated KEK if it has one (<see cref="KeyRingOptions.PurposeKeks"/>), and evicts
    /// and zeroes cached keys. Idempotent; safe to re-run after a crash.
    /// </summary>
    public async Task DestroyAsync(string purpose, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        int latest;
        for (var attempt = 0; ; attempt++)
        {
            var current = await store.ReadHeadAsync(purpose, cancellationToken);
            if (current is null)
            {
                // Never used: record the destruction so a later call cannot quietly create a fresh key.
                var tombstone = new DataKeyHeadDocument
                {
                    Purpose = purpose, ActiveVersion = 0, LatestVersion = 0, State = DataKeyState.Destroyed, Destroyed = now,
                };
                if (await store.TryCreateAsync(tombstone, cancellationToken))
                {
                    latest = 0;
                    break;
                }
            }
            else if (current.Document.State == DataKeyState.Destroyed
                || await store.TryReplaceAsync(current.Document with { State = DataKeyState.Destroyed, Destroyed = now }, current.ETag, cancellationToken))
            {
                latest = current.Document.LatestVersion;
                break;
            }

            if (attempt == MaxAttempts)
            {
                throw new InvalidOperationException($"Could not destroy data key '{purpose}': the key record kept changing.");
            }
        }

        Evict(purpose);
        for (var version = 1; version <= latest; version++)
        {
            await SetStateAsync(purpose, version, DataKeyState.Destroyed, cancellationToken);
        }

        if (_options.PurposeKeks?.Covers(purpose) == true)
        {
            await _options.PurposeKeks.DestroyAsync(purpose, cancellationToken);
        }

        Evict(purpose); // again, in case a concurrent reader cached a key between the head change and now
    }

    /// <summary>Ends a project's pseudonyms: destroys its id and geography keys.</summary>
    public async Task DestroyProjectAsync(string projectId, CancellationToken cancellationToken)
    {
        await DestroyAsync(KeyPurposes.ProjectId(projectId), cancellationToken);
        await DestroyAsync(KeyPurposes.ProjectGeography(projectId), cancellationToken);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var entry in _cache.Values)
            {
                CryptographicOperations.ZeroMemory(entry.Key);
            }

            _cache.Clear();
        }
    }

    private async Task<Versioned<DataKeyHeadDocument>> EnsureHeadAsync(string purpose, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var head = await store.ReadHeadAsync(purpose, cancellationToken);
            if (head is not null)
            {
                return head;
            }

            // First use: version 1, then the head pointing at it. Both creates tolerate a concurrent winner (409).
            await CreateVersionAsync(purpose, 1, cancellationToken);
            await store.TryCreateAsync(new DataKeyHeadDocument
            {
                Purpose = purpose, ActiveVersion = 1, LatestVersion = 1, State = DataKeyState.Active,
            }, cancellationToken);
        }

        throw new InvalidOperationException($"Could not create data key '{purpose}'.");
    }

    private async Task CreateVersionAsync(string purpose, int version, CancellationToken cancellationToken)
    {
        var kek = _options.PurposeKeks?.Covers(purpose) == true
            ? await _options.PurposeKeks.GetOrCreateAsync(purpose, cancellationToken)
            : currentKek;
        var key = RandomNumberGenerator.GetBytes(32);
        try
        {
            var wrapped = await kek.WrapKeyAsync(_options.WrapAlgorithm, key, cancellationToken);
            var document = new DataKeyVersionDocument
            {
                Id = DataKeyVersionDocument.IdFor(version),
                Purpose = purpose,
                Version = version,
                State = DataKeyState.Active,
                KekId = kek.KeyId,
                WrapAlgorithm = _options.WrapAlgorithm,
                WrappedKey = Convert.ToBase64String(wrapped),
                Created = _time.GetUtcNow(),
            };
            await store.TryCreateAsync(document, cancellationToken);
        }
        finally
        {
            // Not cached here: a concurrent creator may have won, and the stored version is the one that counts.
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private async Task SetStateAsync(string purpose, int version, DataKeyState state, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await store.ReadVersionAsync(purpose, version, cancellationToken);
            if (current is null || current.Document.State == state || current.Document.State == DataKeyState.Destroyed)
            {
                return;
            }

            var now = _time.GetUtcNow();
            var changed = state == DataKeyState.Destroyed
                ? current.Document with { State = state, WrappedKey = null, Destroyed = now }
                : current.Document with { State = state, Retired = now };
            if (await store.TryReplaceAsync(changed, current.ETag, cancellationToken))
            {
                return;
            }
        }

        throw new InvalidOperationException($"Could not mark data key '{purpose}' version {version} {state}.");
    }

    /// <summary>A copy of the unwrapped key, which the caller zeroes after use (the cached one may be zeroed by eviction).</summary>
    private async Task<byte[]> GetKeyAsync(string purpose, int version, CancellationToken cancellationToken)
    {
        if (TryGetCached(purpose, version, out var cached))
        {
            return cached;
        }

        var head = await store.ReadHeadAsync(purpose, cancellationToken);
        if (head is not null)
        {
            ThrowIfDestroyed(head.Document, version);
        }

        var stored = await store.ReadVersionAsync(purpose, version, cancellationToken)
            ?? throw new DataKeyNotFoundException(purpose, version);
        var document = stored.Document;
        if (document.State == DataKeyState.Destroyed || document.WrappedKey is null)
        {
            throw new KeyDestroyedException(purpose, version);
        }

        var kek = await kekResolver.ResolveAsync(document.KekId, cancellationToken);
        var key = await kek.UnwrapKeyAsync(document.WrapAlgorithm, Convert.FromBase64String(document.WrappedKey), cancellationToken);
        if (key.Length != 32)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new CryptographicException("An unwrapped data key is not 256 bits.");
        }

        lock (_lock)
        {
            if (_disposed)
            {
                CryptographicOperations.ZeroMemory(key);
                throw new ObjectDisposedException(nameof(KeyRing));
            }

            if (_cache.Remove((purpose, version), out var old))
            {
                CryptographicOperations.ZeroMemory(old.Key);
            }

            _cache[(purpose, version)] = new CachedKey(key.ToArray(), _time.GetUtcNow() + _options.CacheLifetime);
        }

        return key;
    }

    private bool TryGetCached(string purpose, int version, out byte[] key)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_cache.TryGetValue((purpose, version), out var entry))
            {
                if (entry.Expires > _time.GetUtcNow())
                {
                    key = entry.Key.ToArray();
                    return true;
                }

                CryptographicOperations.ZeroMemory(entry.Key);
                _cache.Remove((purpose, version));
            }
        }

        key = [];
        return false;
    }

    private void Evict(string purpose)
    {
        lock (_lock)
        {
            foreach (var cacheKey in _cache.Keys.Where(k => k.Purpose == purpose).ToList())
            {
                CryptographicOperations.ZeroMemory(_cache[cacheKey].Key);
                _cache.Remove(cacheKey);
            }
        }
    }

    private static void ThrowIfDestroyed(DataKeyHeadDocument head, int? version = null)
    {
        if (head.State == DataKeyState.Destroyed)
        {
            throw new KeyDestroyedException(head.Purpose, version ?? head.ActiveVersion);
        }
    }

    private sealed record CachedKey(byte[] Key, DateTimeOffset Expires);
}
