using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Linkage.Azure.Identity;

/// <summary>
/// Bearer tokens for local development (<c>linkage dev-token</c>): ES256, signed by a key kept outside the repository
/// (default <c>~/.linkage/dev-token/es256.pem</c>, created on first use). The app accepts this issuer only when it runs in
/// the Development environment, and validates these tokens with the same code as Entra ID tokens.
/// </summary>
public sealed class DevelopmentTokens
{
    public const string Issuer = "https://linkage.dev.localhost/";
    public const string Audience = "api://linkage-local";

    private readonly ECDsa _key;

    private DevelopmentTokens(ECDsa key, string path)
    {
        _key = key;
        KeyPath = path;
        SigningKey = new ECDsaSecurityKey(key) { KeyId = Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16] };
    }

    public string KeyPath { get; }

    public SecurityKey SigningKey { get; }

    public static string DefaultFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".linkage", "dev-token");

    /// <summary>Loads the development signing key from <paramref name="folder"/>, creating it (mode 600) when missing.</summary>
    public static DevelopmentTokens GetOrCreate(string? folder = null)
    {
        folder = string.IsNullOrEmpty(folder) ? DefaultFolder : folder;
        string path = Path.Combine(folder, "es256.pem");
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return new DevelopmentTokens(key, path);
        }

        Directory.CreateDirectory(folder);
        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        string temp = path + "." + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(temp, key.ExportECPrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
            File.Delete(temp);
            key.ImportFromPem(File.ReadAllText(path));
        }

        return new DevelopmentTokens(key, path);
    }

    /// <summary>A token for <paramref name="name"/> holding <paramref name="roles"/>, as Entra ID would issue one (roles claim).</summary>
    public string Issue(IEnumerable<string> roles, string name, TimeSpan lifetime, string? subject = null, DateTimeOffset? now = null)
    {
        var issuedAt = (now ?? DateTimeOffset.UtcNow).UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject ?? "dev-" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..12].ToLowerInvariant(),
            ["name"] = name,
            ["roles"] = roles.ToArray(),
        };
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt.AddSeconds(-5),
            Expires = issuedAt + lifetime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
