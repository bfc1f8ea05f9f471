using System.Security.Cryptography;
using Azure.Core.Cryptography;
using Linkage.Keys;

namespace Linkage.Azure.Keys;

/// <summary>Where development key-encryption keys live: a folder outside the repository.</summary>
public sealed class LocalKeyEncryptionKeyOptions
{
    /// <summary>Defaults to <c>~/.linkage/keys</c>; never point it inside the repository.</summary>
    public string Folder { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".linkage", "keys");
}

/// <summary>
/// Development stand-in for a Key Vault key: a 256-bit AES key-encryption key in a file (mode 600, folder 700), made on
/// first use, wrapping data keys with AES Key Wrap (RFC 3394, "A256KW"). Key id: <c>local:{name}/{version}</c>.
/// Versions are files <c>{folder}/{name}/{version}.kek</c>; <c>{folder}/{name}/current</c> names the current one.
/// </summary>
public sealed class LocalKeyEncryptionKey : IKeyEncryptionKey
{
    private const string Scheme = "local:";
    private readonly string _file;

    private LocalKeyEncryptionKey(string keyId, string file)
    {
        KeyId = keyId;
        _file = file;
    }

    public string KeyId { get; }

    /// <summary>The current version of the named key, created (with a new version) on first use.</summary>
    public static LocalKeyEncryptionKey GetOrCreate(string name, LocalKeyEncryptionKeyOptions? options = null)
    {
        var folder = KeyFolder(name, options);
        var current = Path.Combine(folder, "current");
        if (File.Exists(current))
        {
            return Open($"{Scheme}{name}/{File.ReadAllText(current).Trim()}", options);
        }

        return Rotate(name, options);
    }

    /// <summary>Makes a new current version; older versions stay for unwrapping.</summary>
    public static LocalKeyEncryptionKey Rotate(string name, LocalKeyEncryptionKeyOptions? options = null)
    {
        var folder = KeyFolder(name, options);
        var version = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var material = RandomNumberGenerator.GetBytes(32);
        try
        {
            WritePrivate(Path.Combine(folder, version + ".kek"), material);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }

        var pointer = Path.Combine(folder, "current.tmp");
        WritePrivate(pointer, System.Text.Encoding.ASCII.GetBytes(version));
        File.Move(pointer, Path.Combine(folder, "current"), overwrite: true);
        return Open($"{Scheme}{name}/{version}", options);
    }

    /// <summary>A specific version by its key id (<c>local:{name}/{version}</c>).</summary>
    public static LocalKeyEncryptionKey Open(string keyId, LocalKeyEncryptionKeyOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        var parts = keyId.StartsWith(Scheme, StringComparison.Ordinal) ? keyId[Scheme.Length..].Split('/') : [];
        if (parts.Length != 2 || !IsSafeName(parts[0]) || !IsSafeName(parts[1]))
        {
            throw new ArgumentException("A local key id is local:{name}/{version}.", nameof(keyId));
        }

        var file = Path.Combine(KeyFolder(parts[0], options), parts[1] + ".kek");
        if (!File.Exists(file))
        {
            throw new KeyNotFoundException("The local key-encryption key version does not exist.");
        }

        return new LocalKeyEncryptionKey(keyId, file);
    }

    public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        CheckAlgorithm(algorithm);
        var kek = File.ReadAllBytes(_file);
        try
        {
            return AesKeyWrap.Wrap(kek, key.Span);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        Task.FromResult(WrapKey(algorithm, key, cancellationToken));

    public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
    {
        CheckAlgorithm(algorithm);
        var kek = File.ReadAllBytes(_file);
        try
        {
            return AesKeyWrap.Unwrap(kek, encryptedKey.Span);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
        Task.FromResult(UnwrapKey(algorithm, encryptedKey, cancellationToken));

    private static void CheckAlgorithm(string algorithm)
    {
        if (algorithm != AesKeyWrap.Algorithm)
        {
            throw new NotSupportedException($"Local key-encryption keys wrap with {AesKeyWrap.Algorithm} only.");
        }
    }

    private static string KeyFolder(string name, LocalKeyEncryptionKeyOptions? options)
    {
        if (!IsSafeName(name))
        {
            throw new ArgumentException("A key name is letters, digits and dashes.", nameof(name));
        }

        var root = (options ?? new LocalKeyEncryptionKeyOptions()).Folder;
        var folder = Path.Combine(root, name);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Directory.CreateDirectory(root, Private);
            Directory.CreateDirectory(folder, Private);
        }

        return folder;
    }

    private static void WritePrivate(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(content);
    }

    private static bool IsSafeName(string name) =>
        name.Length is > 0 and <= 127 && name.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < 0;
}

/// <summary>Resolves <c>local:{name}/{version}</c> ids in one folder.</summary>
public sealed class LocalKeyEncryptionKeyResolver(LocalKeyEncryptionKeyOptions? options = null) : IKeyEncryptionKeyResolver
{
    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default) =>
        LocalKeyEncryptionKey.Open(keyId, options);

    public Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IKeyEncryptionKey>(LocalKeyEncryptionKey.Open(keyId, options));
}
