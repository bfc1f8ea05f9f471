using System.Diagnostics;
using System.Security.Cryptography;
using Linkage.Azure.Keys;

namespace Linkage.Azure.Tests.Keys;

public sealed class KeyVaultKeyClientTests : IAsyncLifetime
{
    private FakeKeyVaultServer _vault = null!;

    public async Task InitializeAsync() => _vault = await FakeKeyVaultServer.StartAsync();

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    [Fact]
    public async Task Create_get_and_wrap_unwrap_a_data_key_with_RSA_OAEP_256()
    {
        var client = _vault.CreateClient();
        var created = await client.CreateKeyAsync("linkage-kek", CancellationToken.None, keySize: 2048);
        Assert.Equal("linkage-kek", created.Name);
        Assert.Equal("RSA", created.KeyType);
        Assert.StartsWith($"{_vault.VaultUri.GetLeftPart(UriPartial.Authority)}/keys/linkage-kek/", created.KeyId, StringComparison.Ordinal);
        Assert.Equal(created.KeyId, (await client.GetKeyAsync("linkage-kek", CancellationToken.None)).KeyId);

        var kek = new KeyVaultKeyEncryptionKey(client, created.KeyId);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = await kek.WrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, dataKey);
        Assert.NotEqual(dataKey, wrapped);
        Assert.Equal(256, wrapped.Length); // RSA-2048 ciphertext
        Assert.Equal(dataKey, await kek.UnwrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, wrapped));
        Assert.Equal(dataKey, kek.UnwrapKey(KeyVaultKeyEncryptionKey.RsaOaep256, kek.WrapKey(KeyVaultKeyEncryptionKey.RsaOaep256, dataKey)));
    }

    [Fact]
    public async Task After_rotation_new_wraps_use_the_new_version_and_old_wraps_still_unwrap()
    {
        var client = _vault.CreateClient();
        var v1 = await client.CreateKeyAsync("rotating", CancellationToken.None, keySize: 2048);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrappedV1 = await new KeyVaultKeyEncryptionKey(client, v1.KeyId).WrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, dataKey);

        var v2 = await client.RotateKeyAsync("rotating", CancellationToken.None);
        Assert.NotEqual(v1.Version, v2.Version);
        Assert.Equal(v2.KeyId, (await client.GetKeyAsync("rotating", CancellationToken.None)).KeyId);

        var resolver = new KeyVaultKeyResolver(client);
        Assert.Equal(dataKey, await (await resolver.ResolveAsync(v1.KeyId)).UnwrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, wrappedV1));
        await Assert.ThrowsAsync<KeyVaultException>(() =>
            resolver.Resolve(v2.KeyId).UnwrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, wrappedV1));
    }

    [Fact]
    public async Task Vault_errors_become_typed_exceptions_with_status_and_code()
    {
        var client = _vault.CreateClient();
        var missing = await Assert.ThrowsAsync<KeyVaultException>(() => client.GetKeyAsync("no-such-key", CancellationToken.None));
        Assert.Equal((404, "KeyNotFound"), (missing.Status, missing.ErrorCode));

        var forbidden = await Assert.ThrowsAsync<KeyVaultException>(() => client.CreateKeyAsync("forbidden-key", CancellationToken.None));
        Assert.Equal((403, "Forbidden"), (forbidden.Status, forbidden.ErrorCode));

        var key = await client.CreateKeyAsync("alg-check", CancellationToken.None, keySize: 2048);
        var badAlgorithm = await Assert.ThrowsAsync<KeyVaultException>(() =>
            client.WrapKeyAsync("alg-check", key.Version, "RSA1_5", new byte[32], CancellationToken.None));
        Assert.Equal((400, "BadParameter"), (badAlgorithm.Status, badAlgorithm.ErrorCode));
        Assert.DoesNotContain("AAAAAAAA", badAlgorithm.Message, StringComparison.Ordinal); // the key material is not echoed

        var unauthorised = await Assert.ThrowsAsync<KeyVaultException>(() =>
            _vault.CreateClient(new StaticTokenCredential("wrong")).GetKeyAsync("alg-check", CancellationToken.None));
        Assert.Equal((401, "Unauthorized"), (unauthorised.Status, unauthorised.ErrorCode));
    }

    [Fact]
    public async Task A_429_is_retried_after_the_Retry_After_the_vault_asked_for()
    {
        var client = _vault.CreateClient();
        var key = await client.CreateKeyAsync("throttled", CancellationToken.None, keySize: 2048);
        _vault.ThrottleNext = 1;
        var before = _vault.Requests;
        var stopwatch = Stopwatch.StartNew();
        var wrapped = await client.WrapKeyAsync("throttled", key.Version, KeyVaultKeyEncryptionKey.RsaOaep256, new byte[32], CancellationToken.None);
        stopwatch.Stop();
        Assert.NotEmpty(wrapped);
        Assert.Equal(2, _vault.Requests - before);
        // The client's own retry delay is 10 ms; only the vault's Retry-After: 1 explains a wait of about a second.
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Persistent_5xx_is_retried_then_surfaces_as_a_typed_exception()
    {
        var client = _vault.CreateClient(maxRetries: 2);
        var key = await client.CreateKeyAsync("flaky", CancellationToken.None, keySize: 2048);
        _vault.UnavailableNext = 10;
        var before = _vault.Requests;
        var error = await Assert.ThrowsAsync<KeyVaultException>(() =>
            client.WrapKeyAsync("flaky", key.Version, KeyVaultKeyEncryptionKey.RsaOaep256, new byte[32], CancellationToken.None));
        Assert.Equal((503, "ServiceUnavailable"), (error.Status, error.ErrorCode));
        Assert.Equal(3, _vault.Requests - before); // first try + 2 retries
        _vault.UnavailableNext = 0;
    }

    [Fact]
    public async Task Delete_and_purge_remove_a_key_for_good()
    {
        var client = _vault.CreateClient();
        var key = await client.CreateKeyAsync("doomed", CancellationToken.None, keySize: 2048);
        var kek = new KeyVaultKeyEncryptionKey(client, key.KeyId);
        var wrapped = await kek.WrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, new byte[32]);

        Assert.True(await client.DeleteKeyAsync("doomed", CancellationToken.None));
        await client.PurgeDeletedKeyAsync("doomed", CancellationToken.None);
        Assert.False(_vault.Exists("doomed"));
        Assert.False(await client.DeleteKeyAsync("doomed", CancellationToken.None));
        var gone = await Assert.ThrowsAsync<KeyVaultException>(() => kek.UnwrapKeyAsync(KeyVaultKeyEncryptionKey.RsaOaep256, wrapped));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public void Key_ids_of_another_vault_are_refused_so_no_token_or_key_goes_there()
    {
        var resolver = new KeyVaultKeyResolver(_vault.CreateClient());
        Assert.Throws<ArgumentException>(() => resolver.Resolve("https://elsewhere.vault.azure.net/keys/k/0123"));
        Assert.Throws<ArgumentException>(() => resolver.Resolve("not a key id"));
    }
}
