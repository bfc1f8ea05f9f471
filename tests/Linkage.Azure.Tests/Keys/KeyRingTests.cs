using Azure.Core.Cryptography;
using Linkage.Azure.Keys;
using Linkage.Azure.Tests.Infrastructure;
using Linkage.Keys;

namespace Linkage.Azure.Tests.Keys;

/// <summary>The key ring against the Cosmos stand-in, with a local (A256KW) and a Key Vault (RSA-OAEP-256) KEK.</summary>
[Collection(LocalStackCollection.Name)]
public sealed class KeyRingTests(LocalStackFixture stack) : IDisposable
{
    private readonly DirectoryInfo _kekFolder = Directory.CreateTempSubdirectory("linkage-kek-");

    public void Dispose() => _kekFolder.Delete(recursive: true);

    private async Task<(DataKeyStore Store, Func<KeyRing> NewRing)> LocalSetupAsync()
    {
        var store = await DataKeyStore.CreateIfNotExistsAsync(await stack.CreateDatabaseAsync(), CancellationToken.None);
        var options = new LocalKeyEncryptionKeyOptions { Folder = _kekFolder.FullName };
        var kek = LocalKeyEncryptionKey.GetOrCreate("linkage-kek", options);
        return (store, () => new KeyRing(store, kek, new LocalKeyEncryptionKeyResolver(options),
            new KeyRingOptions { WrapAlgorithm = AesKeyWrap.Algorithm }));
    }

    [Fact]
    public async Task The_active_key_is_created_on_first_use_stored_wrapped_and_the_same_for_a_fresh_ring()
    {
        var (store, newRing) = await LocalSetupAsync();
        using var ring = newRing();
        using var cipher = await ring.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        Assert.Equal("processor-id/v1", cipher.KeyVersion);
        var token = cipher.Encrypt("E01000001");

        var stored = (await store.ReadVersionAsync(KeyPurposes.ProcessorId, 1, CancellationToken.None))!.Document;
        Assert.Equal(DataKeyState.Active, stored.State);
        Assert.Equal(AesKeyWrap.Algorithm, stored.WrapAlgorithm);
        Assert.StartsWith("local:linkage-kek/", stored.KekId, StringComparison.Ordinal);
        Assert.Equal(40, Convert.FromBase64String(stored.WrappedKey!).Length); // wrapped, not raw (32)

        // Another instance (no cache) unwraps the same stored key.
        using var other = newRing();
        using var again = await other.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        Assert.Equal(token, again.Encrypt("E01000001"));
    }

    [Fact]
    public async Task Concurrent_first_use_settles_on_one_key()
    {
        var (_, newRing) = await LocalSetupAsync();
        var rings = Enumerable.Range(0, 6).Select(_ => newRing()).ToList();
        var ciphers = await Task.WhenAll(rings.Select(r => r.GetCipherAsync(KeyPurposes.TreGeography, CancellationToken.None)));
        Assert.Single(ciphers.Select(c => c.Encrypt("W01000001")).Distinct());
        foreach (var c in ciphers)
        {
            c.Dispose();
        }

        rings.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Rotation_makes_a_new_version_for_new_work_keeps_the_old_for_decryption_and_re_keying_converts_tokens()
    {
        var (store, newRing) = await LocalSetupAsync();
        using var ring = newRing();
        var purpose = KeyPurposes.ProjectId("LLC_0001");
        using var v1 = await ring.GetCipherAsync(purpose, CancellationToken.None);
        var ttpTokens = Enumerable.Range(0, 50).Select(i => TokenCodec.Encode(BitConverter.GetBytes((long)i).Concat(new byte[8]).ToArray())).ToArray();
        var projectTokens = ttpTokens.Select(t => v1.ReencryptToken(t)).ToArray();

        Assert.Equal(2, await ring.RotateAsync(purpose, CancellationToken.None));
        using var active = await ring.GetCipherAsync(purpose, CancellationToken.None);
        Assert.Equal("project-id:LLC_0001/v2", active.KeyVersion);
        Assert.NotEqual(projectTokens[0], active.ReencryptToken(ttpTokens[0]));
        Assert.Equal(DataKeyState.Retired, (await store.ReadVersionAsync(purpose, 1, CancellationToken.None))!.Document.State);

        // The retired version still decrypts (from a fresh ring, through the stored wrapped key)…
        using var fresh = newRing();
        using var old = await fresh.GetCipherAsync(purpose, 1, CancellationToken.None);
        Assert.Equal(ttpTokens[0], old.DecryptToToken(projectTokens[0]));

        // …and the re-key routine streams stored tokens from v1 to v2.
        var csv = "project_id,n\n" + string.Concat(projectTokens.Select((t, i) => $"{t},{i}\n"));
        using var output = new StringWriter();
        var summary = await TokenRekeying.RekeyCsvAsync(new StringReader(csv), output, ["project_id"], old, active, CancellationToken.None);
        Assert.Equal("project-id:LLC_0001/v2", summary.KeyVersions["project_id"]);
        var rekeyed = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(ttpTokens.Select(t => active.ReencryptToken(t)), rekeyed);
    }

    [Fact]
    public async Task Concurrent_rotations_each_get_their_own_version_and_the_head_stays_consistent()
    {
        var (store, newRing) = await LocalSetupAsync();
        using var a = newRing();
        using var b = newRing();
        await a.GetActiveVersionAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        var versions = await Task.WhenAll(
            a.RotateAsync(KeyPurposes.ProcessorId, CancellationToken.None),
            b.RotateAsync(KeyPurposes.ProcessorId, CancellationToken.None));
        Assert.Equal([2, 3], versions.Order());
        var head = (await store.ReadHeadAsync(KeyPurposes.ProcessorId, CancellationToken.None))!.Document;
        Assert.Equal((3, 3), (head.ActiveVersion, head.LatestVersion));
    }

    [Fact]
    public async Task Destroying_a_project_makes_its_tokens_unrecoverable_and_leaves_other_projects_alone()
    {
        var (store, newRing) = await LocalSetupAsync();
        using var ring = newRing();
        var doomed = KeyPurposes.ProjectId("LLC_0007");
        var doomedGeo = KeyPurposes.ProjectGeography("LLC_0007");
        using (var cipher = await ring.GetCipherAsync(doomed, CancellationToken.None))
        {
            _ = cipher.Encrypt("x");
        }

        await ring.RotateAsync(doomed, CancellationToken.None);
        using var survivor = await ring.GetCipherAsync(KeyPurposes.ProjectId("LLC_0008"), CancellationToken.None);
        var survivorToken = survivor.Encrypt("E01000001");

        await ring.DestroyProjectAsync("LLC_0007", CancellationToken.None);

        // Every version's wrapped material is gone from the store…
        foreach (var version in new[] { 1, 2 })
        {
            var document = (await store.ReadVersionAsync(doomed, version, CancellationToken.None))!.Document;
            Assert.Equal(DataKeyState.Destroyed, document.State);
            Assert.Null(document.WrappedKey);
            Assert.NotNull(document.Destroyed);
        }

        // …so neither this ring (cache evicted) nor a fresh one can produce or reverse its tokens, nor start a new key.
        using var fresh = newRing();
        foreach (var r in new[] { ring, fresh })
        {
            await Assert.ThrowsAsync<KeyDestroyedException>(() => r.GetCipherAsync(doomed, CancellationToken.None));
            await Assert.ThrowsAsync<KeyDestroyedException>(() => r.GetCipherAsync(doomed, 1, CancellationToken.None));
            await Assert.ThrowsAsync<KeyDestroyedException>(() => r.RotateAsync(doomed, CancellationToken.None));
            await Assert.ThrowsAsync<KeyDestroyedException>(() => r.GetCipherAsync(doomedGeo, CancellationToken.None));
        }

        using var stillThere = await fresh.GetCipherAsync(KeyPurposes.ProjectId("LLC_0008"), CancellationToken.None);
        Assert.Equal(survivorToken, stillThere.Encrypt("E01000001"));

        await ring.DestroyProjectAsync("LLC_0007", CancellationToken.None); // idempotent
    }

    [Fact]
    public async Task The_ttp_tokenizer_comes_from_the_ttp_person_key()
    {
        var (_, newRing) = await LocalSetupAsync();
        using var ring = newRing();
        using var tokenizer = await ring.GetStudyIdTokenizerAsync(CancellationToken.None);
        Assert.Equal("ttp-person/v1", tokenizer.KeyVersion);
        var token = tokenizer.Tokenize("ALSPAC", "A123");
        using var again = await newRing().GetStudyIdTokenizerAsync(CancellationToken.None, version: 1);
        Assert.True(again.TryDetokenize("ALSPAC", token, out var id));
        Assert.Equal("A123", id);
    }

    [Fact]
    public async Task With_a_Key_Vault_KEK_data_keys_are_wrapped_by_the_vault_with_RSA_OAEP_256()
    {
        await using var vault = await FakeKeyVaultServer.StartAsync();
        var client = vault.CreateClient();
        var kekKey = await client.CreateKeyAsync("linkage-kek", CancellationToken.None, keySize: 2048);
        var store = await DataKeyStore.CreateIfNotExistsAsync(await stack.CreateDatabaseAsync(), CancellationToken.None);
        IKeyEncryptionKey kek = new KeyVaultKeyEncryptionKey(client, kekKey.KeyId);

        using var ring = new KeyRing(store, kek, new KeyVaultKeyResolver(client));
        using var cipher = await ring.GetCipherAsync(KeyPurposes.TreGeography, CancellationToken.None);
        var stored = (await store.ReadVersionAsync(KeyPurposes.TreGeography, 1, CancellationToken.None))!.Document;
        Assert.Equal(kekKey.KeyId, stored.KekId);
        Assert.Equal("RSA-OAEP-256", stored.WrapAlgorithm);
        Assert.Equal(256, Convert.FromBase64String(stored.WrappedKey!).Length);

        // Rotate the vault key: the stored data key names its KEK version, so it still unwraps.
        var newKek = await client.RotateKeyAsync("linkage-kek", CancellationToken.None);
        using var ring2 = new KeyRing(store, new KeyVaultKeyEncryptionKey(client, newKek.KeyId), new KeyVaultKeyResolver(client));
        using var again = await ring2.GetCipherAsync(KeyPurposes.TreGeography, CancellationToken.None);
        Assert.Equal(cipher.Encrypt("E01000001"), again.Encrypt("E01000001"));
        Assert.Equal(2, await ring2.RotateAsync(KeyPurposes.TreGeography, CancellationToken.None));
        Assert.Equal(newKek.KeyId, (await store.ReadVersionAsync(KeyPurposes.TreGeography, 2, CancellationToken.None))!.Document.KekId);
    }

    [Fact]
    public async Task Stored_documents_hold_no_key_material_in_the_clear()
    {
        var (store, newRing) = await LocalSetupAsync();
        using var ring = newRing();
        using var cipher = await ring.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        var document = (await store.ReadVersionAsync(KeyPurposes.ProcessorId, 1, CancellationToken.None))!.Document;
        var json = System.Text.Json.JsonSerializer.Serialize(document);

        // The stored form unwraps (with the KEK) to the key the ring uses, and the raw key appears nowhere in the document.
        var kek = new LocalKeyEncryptionKeyResolver(new LocalKeyEncryptionKeyOptions { Folder = _kekFolder.FullName }).Resolve(document.KekId);
        var raw = kek.UnwrapKey(document.WrapAlgorithm, Convert.FromBase64String(document.WrappedKey!));
        using (var direct = new BlockTokenCipher(raw, "check/v1"))
        {
            Assert.Equal(cipher.Encrypt("E01000001"), direct.Encrypt("E01000001"));
        }

        Assert.DoesNotContain(Convert.ToBase64String(raw), json, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(raw), json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(System.Buffers.Text.Base64Url.EncodeToString(raw), json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_dedicated_project_KEKs_a_restored_backup_of_a_destroyed_key_still_cannot_be_unwrapped()
    {
        await using var vault = await FakeKeyVaultServer.StartAsync();
        var client = vault.CreateClient();
        var shared = await client.CreateKeyAsync("linkage-kek", CancellationToken.None, keySize: 2048);
        var store = await DataKeyStore.CreateIfNotExistsAsync(await stack.CreateDatabaseAsync(), CancellationToken.None);
        var options = new KeyRingOptions { PurposeKeks = new KeyVaultPurposeKeys(client, keySize: 2048) };
        using var ring = new KeyRing(store, new KeyVaultKeyEncryptionKey(client, shared.KeyId), new KeyVaultKeyResolver(client), options);

        var purpose = KeyPurposes.ProjectId("LLC_0009");
        using (var cipher = await ring.GetCipherAsync(purpose, CancellationToken.None))
        {
            _ = cipher.Encrypt("x");
        }

        using (var processor = await ring.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None))
        {
            _ = processor.Encrypt("x");
        }

        var backup = (await store.ReadVersionAsync(purpose, 1, CancellationToken.None))!.Document;
        Assert.Contains("/keys/" + PurposeKekNames.For(purpose) + "/", backup.KekId, StringComparison.Ordinal);
        Assert.Equal(shared.KeyId, (await store.ReadVersionAsync(KeyPurposes.ProcessorId, 1, CancellationToken.None))!.Document.KekId);

        await ring.DestroyProjectAsync("LLC_0009", CancellationToken.None);
        Assert.False(vault.Exists(PurposeKekNames.For(purpose)));

        // Simulate a point-in-time restore of the key store: the old wrapped key comes back, the project KEK does not.
        var restored = await store.ReadVersionAsync(purpose, 1, CancellationToken.None);
        Assert.True(await store.TryReplaceAsync(backup, restored!.ETag, CancellationToken.None));
        var head = await store.ReadHeadAsync(purpose, CancellationToken.None);
        Assert.True(await store.TryReplaceAsync(head!.Document with { State = DataKeyState.Active, Destroyed = null }, head.ETag, CancellationToken.None));
        using var fresh = new KeyRing(store, new KeyVaultKeyEncryptionKey(client, shared.KeyId), new KeyVaultKeyResolver(client), options);
        var error = await Assert.ThrowsAsync<KeyVaultException>(() => fresh.GetCipherAsync(purpose, 1, CancellationToken.None));
        Assert.Equal((404, "KeyNotFound"), (error.Status, error.ErrorCode));

        // The shared KEK and other purposes are untouched.
        using var processorAgain = await fresh.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        Assert.Equal("processor-id/v1", processorAgain.KeyVersion);
    }

    [Fact]
    public async Task Local_dedicated_project_KEKs_are_deleted_with_the_project()
    {
        var store = await DataKeyStore.CreateIfNotExistsAsync(await stack.CreateDatabaseAsync(), CancellationToken.None);
        var local = new LocalKeyEncryptionKeyOptions { Folder = _kekFolder.FullName };
        var options = new KeyRingOptions { WrapAlgorithm = AesKeyWrap.Algorithm, PurposeKeks = new LocalPurposeKeys(local) };
        using var ring = new KeyRing(store, LocalKeyEncryptionKey.GetOrCreate("linkage-kek", local), new LocalKeyEncryptionKeyResolver(local), options);
        var purpose = KeyPurposes.ProjectGeography("LLC_0010");
        using (var cipher = await ring.GetCipherAsync(purpose, CancellationToken.None))
        {
            _ = cipher.Encrypt("E01000001");
        }

        var folder = Path.Combine(_kekFolder.FullName, PurposeKekNames.For(purpose));
        Assert.True(Directory.Exists(folder));
        var backup = (await store.ReadVersionAsync(purpose, 1, CancellationToken.None))!.Document;

        await ring.DestroyProjectAsync("LLC_0010", CancellationToken.None);
        Assert.False(Directory.Exists(folder));
        Assert.True(Directory.Exists(Path.Combine(_kekFolder.FullName, "linkage-kek")));
        Assert.Throws<KeyNotFoundException>(() => new LocalKeyEncryptionKeyResolver(local).Resolve(backup.KekId));
    }
}
