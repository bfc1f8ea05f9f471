using System.Security.Cryptography;
using Linkage.Azure.Keys;
using Linkage.Keys;

namespace Linkage.Azure.Tests.Keys;

public sealed class LocalKeyEncryptionKeyTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("linkage-kek-");

    private LocalKeyEncryptionKeyOptions Options => new() { Folder = Path.Combine(_folder.FullName, "keys") };

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void The_key_is_made_on_first_use_in_private_files_and_reused_afterwards()
    {
        var first = LocalKeyEncryptionKey.GetOrCreate("linkage-kek", Options);
        var again = LocalKeyEncryptionKey.GetOrCreate("linkage-kek", Options);
        Assert.Equal(first.KeyId, again.KeyId);
        Assert.StartsWith("local:linkage-kek/", first.KeyId, StringComparison.Ordinal);

        var files = Directory.GetFiles(Path.Combine(Options.Folder, "linkage-kek"), "*.kek");
        var file = Assert.Single(files);
        Assert.Equal(32, new FileInfo(file).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Options.Folder));
        }
    }

    [Fact]
    public async Task Wraps_with_A256KW_and_old_versions_keep_unwrapping_after_rotation()
    {
        var v1 = LocalKeyEncryptionKey.GetOrCreate("kek", Options);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = await v1.WrapKeyAsync(AesKeyWrap.Algorithm, dataKey);
        Assert.Equal(40, wrapped.Length);

        var v2 = LocalKeyEncryptionKey.Rotate("kek", Options);
        Assert.NotEqual(v1.KeyId, v2.KeyId);
        Assert.Equal(v2.KeyId, LocalKeyEncryptionKey.GetOrCreate("kek", Options).KeyId);

        var resolver = new LocalKeyEncryptionKeyResolver(Options);
        Assert.Equal(dataKey, await (await resolver.ResolveAsync(v1.KeyId)).UnwrapKeyAsync(AesKeyWrap.Algorithm, wrapped));
        Assert.Throws<CryptographicException>(() => v2.UnwrapKey(AesKeyWrap.Algorithm, wrapped));
        Assert.Throws<NotSupportedException>(() => v1.WrapKey("RSA-OAEP-256", dataKey));
        Assert.Throws<KeyNotFoundException>(() => resolver.Resolve("local:kek/ffff"));
        Assert.Throws<ArgumentException>(() => resolver.Resolve("local:../etc/passwd"));
    }
}
