using Azure.Core.Cryptography;
using Azure.Identity;
using Linkage.Azure.Cosmos;
using Linkage.Azure.Keys;
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
public sealed class KeyRingProvider(CosmosDatabase cosmos, IOptions<KeysOptions> options, TimeProvider time) : IDisposable
{
    private readonly Lazy<Task<KeyRing>> _ring = new(() => CreateAsync(cosmos, options.Value, time));

    public Task<KeyRing> GetAsync(CancellationToken cancellationToken) => _ring.Value.WaitAsync(cancellationToken);

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
        if (o.VaultUri is not null)
        {
            var client = new KeyVaultKeyClient(o.VaultUri, new DefaultAzureCredential());
            var key = await client.GetKeyAsync(o.KekName, CancellationToken.None);
            kek = new KeyVaultKeyEncryptionKey(client, key.KeyId);
            resolver = new KeyVaultKeyResolver(client);
            algorithm = o.WrapAlgorithm;
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
        }

        return new KeyRing(store, kek, resolver, new KeyRingOptions { WrapAlgorithm = algorithm }, time);
    }
}

public static class KeysExtensions
{
    public static IHostApplicationBuilder AddLinkageKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KeysOptions>().BindConfiguration(KeysOptions.SectionName);
        builder.Services.AddSingleton<KeyRingProvider>();
        return builder;
    }
}
