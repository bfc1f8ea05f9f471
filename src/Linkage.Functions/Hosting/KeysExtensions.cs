using Azure.Core.Cryptography;
using Azure.Identity;
using Linkage.Azure;
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

    /// <summary>
    /// Key Vault (or Managed HSM) URI. Empty: a local key-encryption key, allowed only in the Development environment
    /// (elsewhere the app refuses to start: <see cref="KeysOptionsValidation"/>).
    /// </summary>
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
/// <para>
/// The ring is made on first use by a <see cref="RecoverableAsyncLazy{T}"/>: if Cosmos or Key Vault is down then, the
/// next use tries again (a cached failure would break the instance until restart), and a cancelled caller does not
/// cancel the creation for the others.
/// </para>
/// </remarks>
public sealed class KeyRingProvider(CosmosDatabase cosmos, IOptions<KeysOptions> options, IOptions<ZoneOptions> zoneOptions, IHostEnvironment environment, TimeProvider time) : IDisposable
{
    /// <summary>The fixed (non-project) purposes, which the health check reads for the enabled zones.</summary>
    private static readonly string[] FixedPurposes = [KeyPurposes.TtpPerson, TtpFile1Processor.LinkKeyPurpose, KeyPurposes.ProcessorId, KeyPurposes.TreGeography];

    private readonly RecoverableAsyncLazy<RingState> _ring = new(ct => CreateAsync(cosmos, options.Value, environment, time, ct));

    /// <summary>The ring itself, without the zone check: for tests and operator tools only.</summary>
    internal async Task<KeyRing> GetAsync(CancellationToken cancellationToken) => (await _ring.GetAsync(cancellationToken)).Ring;

    /// <summary>
    /// For the health check: the ring can be made, its key-encryption key still answers (Key Vault), and the data-key
    /// store answers for each purpose the enabled zones use. Reads only; never creates a key.
    /// </summary>
    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        var zones = zoneOptions.Value.EnabledZones;
        var purposes = FixedPurposes.Where(p => IsAllowed(p, zones)).ToList();
        if (purposes.Count == 0)
        {
            return; // an app of the platform zone alone holds no keys
        }

        var state = await _ring.GetAsync(cancellationToken);
        await state.ProbeKekAsync(cancellationToken);
        foreach (var purpose in purposes)
        {
            _ = await state.Store.ReadHeadAsync(purpose, cancellationToken);
        }
    }

    public async Task<BlockTokenCipher> GetCipherAsync(string purpose, CancellationToken cancellationToken)
    {
        EnsureAllowed(purpose);
        return await (await GetAsync(cancellationToken)).GetCipherAsync(purpose, cancellationToken);
    }

    /// <summary>The cipher of one version of a purpose (e.g. the TRE id key a curated version was made with, after a rotation).</summary>
    public async Task<BlockTokenCipher> GetCipherAsync(string purpose, int version, CancellationToken cancellationToken)
    {
        EnsureAllowed(purpose);
        return await (await GetAsync(cancellationToken)).GetCipherAsync(purpose, version, cancellationToken);
    }

    /// <param name="version">A given version (a File 1 re-read with the key it was first tokenised with); null for the active one.</param>
    public async Task<StudyIdTokenizer> GetStudyIdTokenizerAsync(CancellationToken cancellationToken, int? version = null)
    {
        EnsureAllowed(KeyPurposes.TtpPerson);
        return await (await GetAsync(cancellationToken)).GetStudyIdTokenizerAsync(cancellationToken, version);
    }

    /// <summary>Destroys a project's id and geography keys (crypto-shredding, decision 0304; provisioning zone only). Idempotent.</summary>
    public async Task DestroyProjectKeysAsync(string projectId, CancellationToken cancellationToken)
    {
        EnsureAllowed(KeyPurposes.ProjectId(projectId));
        EnsureAllowed(KeyPurposes.ProjectGeography(projectId));
        await (await GetAsync(cancellationToken)).DestroyProjectAsync(projectId, cancellationToken);
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
        _ring.Dispose();
        if (_ring.TryGetValue(out var state))
        {
            state.Ring.Dispose();
        }
    }

    private static async Task<RingState> CreateAsync(CosmosDatabase cosmos, KeysOptions o, IHostEnvironment environment, TimeProvider time, CancellationToken cancellationToken)
    {
        var container = await cosmos.ContainerAsync(DataKeyStore.ContainerName, DataKeyStore.PartitionKeyPath, cancellationToken);
        var store = new DataKeyStore(container);
        IKeyEncryptionKey kek;
        IKeyEncryptionKeyResolver resolver;
        string algorithm;
        IPurposeKeyEncryptionKeys purposeKeks;
        Func<CancellationToken, Task> probeKek;
        if (o.VaultUri is not null)
        {
            var client = new KeyVaultKeyClient(o.VaultUri, new DefaultAzureCredential());
            var key = await client.GetKeyAsync(o.KekName, cancellationToken);
            kek = new KeyVaultKeyEncryptionKey(client, key.KeyId);
            resolver = new KeyVaultKeyResolver(client);
            algorithm = o.WrapAlgorithm;
            purposeKeks = new KeyVaultPurposeKeys(client); // a vault key per project, so shredding survives a Cosmos restore
            probeKek = async ct => await client.GetKeyAsync(o.KekName, ct);
        }
        else
        {
            // Start-up validation refuses this outside Development already; checked again here so no path reaches the file key.
            if (!environment.IsDevelopment())
            {
                throw new InvalidOperationException(KeysOptionsValidation.NoVaultMessage(environment.EnvironmentName));
            }

            var local = new LocalKeyEncryptionKeyOptions();
            if (!string.IsNullOrEmpty(o.LocalFolder))
            {
                local.Folder = o.LocalFolder;
            }

            kek = LocalKeyEncryptionKey.GetOrCreate(o.KekName, local);
            resolver = new LocalKeyEncryptionKeyResolver(local);
            algorithm = KeyVaultKeyEncryptionKey.AesKeyWrap256;
            purposeKeks = new LocalPurposeKeys(local);
            probeKek = _ => Task.CompletedTask; // loaded from its file above; nothing remote to lose
        }

        return new RingState(new KeyRing(store, kek, resolver, new KeyRingOptions { WrapAlgorithm = algorithm, PurposeKeks = purposeKeks }, time), store, probeKek);
    }

    private sealed record RingState(KeyRing Ring, DataKeyStore Store, Func<CancellationToken, Task> ProbeKekAsync);
}

/// <summary>The key ring of the enabled zones: its key-encryption key is reachable (Key Vault, or the local key) and the data-key store answers.</summary>
internal sealed class KeyRingCheck(KeyRingProvider keys) : IDependencyCheck
{
    public string Name => "keys";

    public Task CheckAsync(CancellationToken cancellationToken) => keys.CheckAsync(cancellationToken);
}

/// <summary>
/// Fails closed: outside Development, an app whose zones use data keys must name its Key Vault key; the local file key
/// (<see cref="LocalKeyEncryptionKey"/>) is for development only and would leave real keys wrapped by a file on one machine.
/// </summary>
internal sealed class KeysOptionsValidation(IHostEnvironment environment, IOptions<ZoneOptions> zones) : IValidateOptions<KeysOptions>
{
    public static string NoVaultMessage(string environmentName) =>
        $"Keys:VaultUri is not set, so the data keys would be wrapped by the local development key-encryption key (LocalKeyEncryptionKey), " +
        $"which is allowed only in the Development environment (this is '{environmentName}'). Set Keys:VaultUri (app setting Keys__VaultUri) " +
        "to the Key Vault or Managed HSM URI, and Keys:KekName to its key-encryption key.";

    public ValidateOptionsResult Validate(string? name, KeysOptions options)
    {
        if (options.VaultUri is not null || environment.IsDevelopment() || !UsesKeys(zones))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(NoVaultMessage(environment.EnvironmentName));
    }

    /// <summary>
    /// Every zone but platform takes data keys. A missing or unparseable zone list is reported by its own validation;
    /// here it counts as using keys, so both problems are reported at once.
    /// </summary>
    private static bool UsesKeys(IOptions<ZoneOptions> zones)
    {
        try
        {
            return zones.Value.EnabledZones.Any(z => z != FunctionZone.Platform);
        }
        catch (Exception e) when (e is ArgumentException or OptionsValidationException)
        {
            return true;
        }
    }
}

public static class KeysExtensions
{
    public static IHostApplicationBuilder AddLinkageKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KeysOptions>().BindConfiguration(KeysOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KeysOptions>, KeysOptionsValidation>();
        builder.Services.AddSingleton<KeyRingProvider>();
        builder.Services.AddDependencyCheck<KeyRingCheck>();
        return builder;
    }
}
