using Azure.Core;

namespace Linkage.Azure.Keys;

/// <summary>Options for <see cref="KeyVaultKeyClient"/>: the Azure.Core pipeline (retry, transport, diagnostics) plus Key Vault specifics.</summary>
public sealed class KeyVaultKeyClientOptions : ClientOptions
{
    public KeyVaultKeyClientOptions()
    {
        // Azure.Core's retry policy retries 408/429/500/502/503/504 and waits for Retry-After when the vault sends it.
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 5;
        Retry.Delay = TimeSpan.FromMilliseconds(800);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>The REST API version (7.4 has wrap/unwrap, create, rotate and get).</summary>
    public string ApiVersion { get; set; } = "7.4";

    /// <summary>Token scope: <c>https://vault.azure.net/.default</c> for a vault, <c>https://managedhsm.azure.net/.default</c> for a Managed HSM.</summary>
    public string Scope { get; set; } = "https://vault.azure.net/.default";
}
