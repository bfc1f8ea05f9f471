namespace Linkage.Azure.Keys;

/// <summary>
/// A Key Vault request failed: the HTTP status and the vault's error code (e.g. KeyNotFound, Forbidden, BadParameter,
/// Throttled). The message carries the vault's own text, which names keys but never key material or personal data.
/// </summary>
public sealed class KeyVaultException(int status, string errorCode, string message)
    : Exception($"Key Vault returned {status} {errorCode}: {message}")
{
    public int Status { get; } = status;

    public string ErrorCode { get; } = errorCode;
}
