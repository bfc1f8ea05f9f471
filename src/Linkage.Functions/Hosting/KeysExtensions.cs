using Azure.Core.Cryptography;
using Azure.Identity;
using Linkage.Azure.Cosmos;
using Linkage.Azure.Keys;
using Linkage.Functions.Health;
using Linkage.Keys;
using Linkage.Ttp;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Hosting;

/// <summary>Where the key-encryption key lives (section <c>Keys</c>).</summary>
public sealed class KeysOptions
{
    public const string SectionName = "Keys";

    /// <summary>Key Vault (or Managed HSM) URI. Empty: a local key-encryption key for development.</summary>
    public Uri? VaultUri { get; set; }

    /// <summary>Name of the key-encryption key in the vault (or of the local key file).</summary>
    public string KekName { get; set; } = "linkage-kek";

    /// <summary>A256KW for a Managed HSM; RSA-OAEP-256 for a vault key. Ignored for the local key (always A256KW).</summary>
    public string WrapAlgorithm { get; set; } = KeyVaultKeyEncryptionKey.RsaOaep256;

    /// <summary>Folder of the local development key (default ~/.linkage/keys, outside the repository).</summary>
    public string? LocalFolder { get; set; }
}

/// <summary>
/// The app's <see cref="KeyRing"/>, created on first use (its Cosmos container and, in Azure, the Key Vault key lookup
/// are asynchronous). One per app instance, so unwrapped keys are cached once and zeroed on shutdown.
/// </summary>
/// <remarks>
/// Functions get ciphers through <see cref="GetCipherAsync"/> and <see cref="GetStudyIdTokenizerAsync"/>, which only hand
/// out keys of purposes the app's enabled zones need: a TRE-side app (processor, provisioning) cannot obtain the TTP's
/// person-id or link key, and the TTP app cannot obtain TRE or project keys.
/// </remarks>
public sealed class KeyRingProvider(CosmosDatabase cosmos, IOptions<KeysOptions> options, IOptions<ZoneOptions> zoneOptions, TimeProvider time) : IDisposable
{
    private readonly Lazy<Task<KeyRing>> _ring = new(() => CreateAsync(cosmos, options.Value, time));

    /// <summary>The ring itself, without the zone check: for tests and operator tools only.</summary>
    internal Task<KeyRing> GetAsync(CancellationToken cancellationToken) => _ring.Value.WaitAsync(cancellationToken);

    public async Task<BlockTokenCipher> GetCipherAsync(string purpose, CancellationToken cancellationToken)
    {
        EnsureAllowed(purpose);
        return await (await GetAsync(cancellationToken)).GetCipherAsync(purpose, cancellationToken);
    }

    public async Task<StudyIdTokenizer> GetStudyIdTokenizerAsync(CancellationToken cancellationToken)
    {
        EnsureAllowed(KeyPurposes.TtpPerson);
        return await (await GetAsync(cancellationToken)).GetStudyIdTokenizerAsync(cancellationToken);
    }

    /// <summary>The TTP's manifest signer (TTP zone only).</summary>
    public async Task<ManifestSigner> GetManifestSignerAsync(CancellationToken cancellationToken)
    {
        EnsureAllowed(ManifestSigner.KeyPurpose);
        return await (await GetAsync(cancellationToken)).GetManifestSignerAsync(cancellationToken);
    }

    /// <summary>Purposes a zone may use. Project purposes (project-id:…, project-geo:…) belong to provisioning.</summary>
    public static bool IsAllowed(string purpose, IReadOnlySet<FunctionZone> zones) =>
        (zones.Contains(FunctionZone.Ttp) && purpose is KeyPurposes.TtpPerson or TtpFile1Processor.LinkKeyPurpose or ManifestSigner.KeyPurpose)
        || (zones.Contains(FunctionZone.Processor) && purpose is KeyPurposes.ProcessorId or KeyPurposes.TreGeography)
        || (zones.Contains(FunctionZone.Provisioning) && (purpose is KeyPurposes.ProcessorId or KeyPurposes.TreGeography || PurposeKekNames.IsProjectPurpose(purpose)));

    private void EnsureAllowed(string purpose)
    {
        var zones = zoneOptions.Value.EnabledZones;
        if (!IsAllowed(purpose, zones))
        {
            throw new UnauthorizedAccessException($"Key purpose '{purpose}' is not available to an app running zones {string.Join(", ", zones)}.");
        }
    }

    public void Dispose()
    {
        if (_ring.IsValueCreated && _ring.Value.IsCompletedSuccessfully)
        {
            _ring.Value.Result.Dispose();
        }
    }

    private static async Task<KeyRing> CreateAsync(CosmosDatabase cosmos, KeysOptions o, TimeProvider time)
    {
        var container = await cosmos.ContainerAsync(DataKeyStore.ContainerName, DataKeyStore.PartitionKeyPath, CancellationToken.None);
        var store = new DataKeyStore(container);
        IKeyEncryptionKey kek;
        IKeyEncryptionKeyResolver resolver;
        string algorithm;
        IPurposeKeyEncryptionKeys purposeKeks;
        if (o.VaultUri is not null)
        {
            var client = new KeyVaultKeyClient(o.VaultUri, new DefaultAzureCredential());
            var key = await client.GetKeyAsync(o.KekName, CancellationToken.None);
            kek = new KeyVaultKeyEncryptionKey(client, key.KeyId);
            resolver = new KeyVaultKeyResolver(client);
            algorithm = o.WrapAlgorithm;
            purposeKeks = new KeyVaultPurposeKeys(client); // a vault key per project, so shredding survives a Cosmos restore
        }
        else
        {
            var local = new LocalKeyEncryptionKeyOptions();
            if (!string.IsNullOrEmpty(o.LocalFolder))
            {
                local.Folder = o.LocalFolder;
            }

            kek = LocalKeyEncryptionKey.GetOrCreate(o.KekName, local);
            resolver = new LocalKeyEncryptionKeyResolver(local);
            algorithm = KeyVaultKeyEncryptionKey.AesKeyWrap256;
            purposeKeks = new LocalPurposeKeys(local);
        }

        return new KeyRing(store, kek, resolver, new KeyRingOptions { WrapAlgorithm = algorithm, PurposeKeks = purposeKeks }, time);
    }
}

/// <summary>The key-encryption key is reachable (Key Vault, or the local key) and the data-key store answers.</summary>
internal sealed class KeyRingCheck(KeyRingProvider keys) : IDependencyCheck
{
    public string Name => "keys";

    public Task CheckAsync(CancellationToken cancellationToken) => keys.GetAsync(cancellationToken);
}

public static class KeysExtensions
{
    public static IHostApplicationBuilder AddLinkageKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KeysOptions>().BindConfiguration(KeysOptions.SectionName);
        builder.Services.AddSingleton<KeyRingProvider>();
        builder.Services.AddDependencyCheck<KeyRingCheck>();
        return builder;
    }
}
