namespace Linkage.Azure.Keys;

/// <summary>The public facts of a Key Vault key version (from a KeyBundle): never any key material.</summary>
public sealed record KeyVaultKey(string KeyId, string Name, string Version, string KeyType, bool Enabled, DateTimeOffset? Created)
{
    /// <summary>Splits a key identifier <c>https://{vault}/keys/{name}/{version}</c> into vault, name and version.</summary>
    public static (Uri Vault, string Name, string Version) ParseKeyId(string keyId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        if (!Uri.TryCreate(keyId, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException("Not a Key Vault key identifier.", nameof(keyId));
        }

        var segments = uri.AbsolutePath.Trim('/').Split('/');
        if (segments.Length != 3 || segments[0] != "keys")
        {
            throw new ArgumentException("A Key Vault key identifier is https://{vault}/keys/{name}/{version}.", nameof(keyId));
        }

        return (new Uri(uri.GetLeftPart(UriPartial.Authority)), Uri.UnescapeDataString(segments[1]), Uri.UnescapeDataString(segments[2]));
    }
}
