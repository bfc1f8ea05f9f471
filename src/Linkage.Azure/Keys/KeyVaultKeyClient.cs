using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Linkage.Azure.Keys;

/// <summary>
/// The few Key Vault key operations envelope encryption needs, over the REST API (api-version 7.4) with Azure.Core's
/// pipeline: bearer token (managed identity through <c>DefaultAzureCredential</c> in production), retries on
/// 408/429/5xx honouring <c>Retry-After</c>, and vault error bodies turned into <see cref="KeyVaultException"/>.
/// </summary>
/// <remarks>
/// REST rather than <c>Azure.Security.KeyVault.Keys</c> because that package is not served by this environment's
/// package feed. Request bodies (which hold data keys) are never logged: Azure.Core logs no content by default.
/// </remarks>
public sealed class KeyVaultKeyClient
{
    private readonly Uri _vault;
    private readonly HttpPipeline _pipeline;
    private readonly string _apiVersion;

    public KeyVaultKeyClient(Uri vaultUri, TokenCredential credential, KeyVaultKeyClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vaultUri);
        ArgumentNullException.ThrowIfNull(credential);
        options ??= new KeyVaultKeyClientOptions();
        _vault = new Uri(vaultUri.GetLeftPart(UriPartial.Authority));
        _apiVersion = options.ApiVersion;
        _pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, options.Scope));
    }

    public Uri VaultUri => _vault;

    /// <summary>Wraps (encrypts) a data key with a key version: <c>POST /keys/{name}/{version}/wrapkey</c>.</summary>
    public Task<byte[]> WrapKeyAsync(string name, string version, string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        KeyOperationAsync(name, version, "wrapkey", algorithm, key, async: true, cancellationToken).AsTask();

    public byte[] WrapKey(string name, string version, string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        KeyOperationAsync(name, version, "wrapkey", algorithm, key, async: false, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Unwraps (decrypts) a wrapped data key: <c>POST /keys/{name}/{version}/unwrapkey</c>.</summary>
    public Task<byte[]> UnwrapKeyAsync(string name, string version, string algorithm, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken) =>
        KeyOperationAsync(name, version, "unwrapkey", algorithm, wrappedKey, async: true, cancellationToken).AsTask();

    public byte[] UnwrapKey(string name, string version, string algorithm, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken) =>
        KeyOperationAsync(name, version, "unwrapkey", algorithm, wrappedKey, async: false, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Creates a key (or a new version of it): <c>POST /keys/{name}/create</c>. RSA 3072 for wrapping by default.</summary>
    public async Task<KeyVaultKey> CreateKeyAsync(string name, CancellationToken cancellationToken, string keyType = "RSA", int keySize = 3072)
    {
        var body = new JsonObject
        {
            ["kty"] = keyType,
            ["key_ops"] = new JsonArray("wrapKey", "unwrapKey"),
        };
        if (keyType.StartsWith("RSA", StringComparison.Ordinal) || keyType.StartsWith("oct", StringComparison.Ordinal))
        {
            body["key_size"] = keySize;
        }

        var json = await SendAsync(RequestMethod.Post, ["keys", name, "create"], body, async: true, cancellationToken);
        return ToKey(json);
    }

    /// <summary>Makes a new current version of a key: <c>POST /keys/{name}/rotate</c>. Old versions keep unwrapping.</summary>
    public async Task<KeyVaultKey> RotateKeyAsync(string name, CancellationToken cancellationToken) =>
        ToKey(await SendAsync(RequestMethod.Post, ["keys", name, "rotate"], null, async: true, cancellationToken));

    /// <summary>The current version of a key (or the given one): <c>GET /keys/{name}[/{version}]</c>.</summary>
    public async Task<KeyVaultKey> GetKeyAsync(string name, CancellationToken cancellationToken, string? version = null)
    {
        string[] path = version is null ? ["keys", name] : ["keys", name, version];
        return ToKey(await SendAsync(RequestMethod.Get, path, null, async: true, cancellationToken));
    }

    /// <summary>Deletes a key (all versions; soft-deleted where the vault has soft delete): <c>DELETE /keys/{name}</c>. False if it did not exist.</summary>
    public async Task<bool> DeleteKeyAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(RequestMethod.Delete, ["keys", name], null, async: true, cancellationToken);
            return true;
        }
        catch (KeyVaultException e) when (e.Status == 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Permanently removes a soft-deleted key: <c>DELETE /deletedkeys/{name}</c>. Deletion completes asynchronously in
    /// the vault, so a 409 ("being deleted") or 404 right after the delete is retried a few times.
    /// </summary>
    public async Task PurgeDeletedKeyAsync(string name, CancellationToken cancellationToken, int attempts = 10)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SendAsync(RequestMethod.Delete, ["deletedkeys", name], null, async: true, cancellationToken);
                return;
            }
            catch (KeyVaultException e) when (e.Status is 404 or 409 && attempt < attempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
    }

    private async ValueTask<byte[]> KeyOperationAsync(
        string name, string version, string operation, string algorithm, ReadOnlyMemory<byte> value, bool async, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm);
        var body = new JsonObject { ["alg"] = algorithm, ["value"] = Base64Url.EncodeToString(value.Span) };
        var json = await SendAsync(RequestMethod.Post, ["keys", name, version, operation], body, async, cancellationToken);
        var result = json["value"]?.GetValue<string>()
            ?? throw new KeyVaultException(200, "InvalidResponse", "The key operation result has no value.");
        return Base64Url.DecodeFromChars(result);
    }

    private async ValueTask<JsonNode> SendAsync(RequestMethod method, string[] path, JsonObject? body, bool async, CancellationToken cancellationToken)
    {
        foreach (var segment in path)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(segment);
        }

        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_vault);
        foreach (var segment in path)
        {
            request.Uri.AppendPath("/", escape: false);
            request.Uri.AppendPath(segment, escape: true);
        }

        request.Uri.AppendQuery("api-version", _apiVersion);
        request.Headers.Add(HttpHeader.Common.JsonContentType);
        request.Headers.Add("Accept", "application/json");
        if (body is not null || method == RequestMethod.Post)
        {
            request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(body ?? new JsonObject()));
        }

        if (async)
        {
            await _pipeline.SendAsync(message, cancellationToken);
        }
        else
        {
            _pipeline.Send(message, cancellationToken);
        }

        var response = message.Response;
        var content = response.Content?.ToMemory() ?? ReadOnlyMemory<byte>.Empty;
        if (response.Status is < 200 or >= 300)
        {
            throw ToException(response.Status, content);
        }

        if (content.IsEmpty)
        {
            return new JsonObject(); // e.g. 204 from a purge
        }

        return JsonNode.Parse(content.Span)
            ?? throw new KeyVaultException(response.Status, "InvalidResponse", "The response has no JSON body.");
    }

    /// <summary>Key Vault error body: <c>{"error":{"code":"...","message":"..."}}</c>; anything else keeps the status.</summary>
    private static KeyVaultException ToException(int status, ReadOnlyMemory<byte> content)
    {
        try
        {
            var error = content.IsEmpty ? null : JsonNode.Parse(content.Span)?["error"];
            var code = error?["code"]?.GetValue<string>();
            if (code is not null)
            {
                return new KeyVaultException(status, code, error?["message"]?.GetValue<string>() ?? string.Empty);
            }
        }
        catch (JsonException)
        {
            // Not a Key Vault error body (a proxy's HTML page, say): fall through to the status alone.
        }

        return new KeyVaultException(status, status switch
        {
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            429 => "Throttled",
            _ => "HttpError",
        }, "The response carried no Key Vault error body.");
    }

    private static KeyVaultKey ToKey(JsonNode bundle)
    {
        var kid = bundle["key"]?["kid"]?.GetValue<string>()
            ?? throw new KeyVaultException(200, "InvalidResponse", "The key bundle has no key id.");
        var (_, name, version) = KeyVaultKey.ParseKeyId(kid);
        var attributes = bundle["attributes"];
        var created = attributes?["created"]?.GetValue<long>();
        return new KeyVaultKey(
            kid,
            name,
            version,
            bundle["key"]?["kty"]?.GetValue<string>() ?? string.Empty,
            attributes?["enabled"]?.GetValue<bool>() ?? true,
            created is null ? null : DateTimeOffset.FromUnixTimeSeconds(created.Value));
    }
}
