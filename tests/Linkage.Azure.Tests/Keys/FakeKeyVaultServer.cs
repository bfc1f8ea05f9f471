using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Linkage.Azure.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Linkage.Azure.Tests.Keys;

/// <summary>
/// A local HTTPS server (Kestrel on 127.0.0.1, self-signed certificate) that follows the documented Key Vault REST shapes
/// (api-version 7.4): key create/rotate/get returning KeyBundles, wrapkey/unwrapkey returning KeyOperationResults with
/// real RSA-OAEP-256, error bodies <c>{"error":{"code","message"}}</c> (401, 403 Forbidden, 404 KeyNotFound,
/// 400 BadParameter) and throttling (429 with Retry-After). HTTPS because Azure.Core refuses bearer tokens over HTTP.
/// </summary>
internal sealed class FakeKeyVaultServer : IAsyncDisposable
{
    public const string Token = "test-token";
    private readonly ConcurrentDictionary<string, List<(string Version, RSA Key, long Created)>> _keys = new();
    private readonly ConcurrentDictionary<string, List<(string Version, RSA Key, long Created)>> _deleted = new();
    private WebApplication? _app;

    public X509Certificate2 Certificate { get; private set; } = null!;

    public Uri VaultUri { get; private set; } = null!;

    /// <summary>Answer the next N requests with 429 and <c>Retry-After: 1</c>.</summary>
    public int ThrottleNext;

    /// <summary>Answer the next N requests with 503 (no Retry-After).</summary>
    public int UnavailableNext;

    public int Requests;

    public static async Task<FakeKeyVaultServer> StartAsync()
    {
        var server = new FakeKeyVaultServer();
        server.Certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(server.Certificate)));
        var app = builder.Build();
        app.Use(server.GateAsync);
        app.MapPost("/keys/{name}/create", (string name, HttpContext context) => server.Create(name, context));
        app.MapPost("/keys/{name}/rotate", (string name) => server.Rotate(name));
        app.MapGet("/keys/{name}/{version?}", (string name, string? version) => server.Get(name, version));
        app.MapDelete("/keys/{name}", (string name) => server.Delete(name));
        app.MapDelete("/deletedkeys/{name}", (string name) => server.Purge(name));
        app.MapPost("/keys/{name}/{version}/{operation}", (string name, string version, string operation, HttpContext context) =>
            server.KeyOperation(name, version, operation, context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.VaultUri = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        server._app = app;
        return server;
    }

    /// <summary>Client options that trust exactly this server's certificate, with quick retries.</summary>
    public KeyVaultKeyClientOptions ClientOptions(int maxRetries = 3)
    {
        var thumbprint = Certificate.Thumbprint;
        var options = new KeyVaultKeyClientOptions
        {
            Transport = new HttpClientTransport(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint,
            }),
        };
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxRetries = maxRetries;
        return options;
    }

    public KeyVaultKeyClient CreateClient(TokenCredential? credential = null, int maxRetries = 3) =>
        new(VaultUri, credential ?? new StaticTokenCredential(Token), ClientOptions(maxRetries));

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Certificate.Dispose();
    }

    private async Task GateAsync(HttpContext context, Func<Task> next)
    {
        Interlocked.Increment(ref Requests);
        if (context.Request.Query["api-version"] != "7.4")
        {
            await Error(context, 400, "BadParameter", "The api-version is missing or not supported.");
            return;
        }

        if (context.Request.Headers.Authorization != $"Bearer {Token}")
        {
            context.Response.Headers.WWWAuthenticate = "Bearer authorization=\"https://login.microsoftonline.com/tenant\", resource=\"https://vault.azure.net\"";
            await Error(context, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            return;
        }

        if (Interlocked.Decrement(ref ThrottleNext) >= 0)
        {
            context.Response.Headers.RetryAfter = "1";
            await Error(context, 429, "Throttled", "Request was not processed because too many requests were received.");
            return;
        }

        if (Interlocked.Decrement(ref UnavailableNext) >= 0)
        {
            await Error(context, 503, "ServiceUnavailable", "The service is temporarily unavailable.");
            return;
        }

        await next();
    }

    private IResult Create(string name, HttpContext context)
    {
        if (name.StartsWith("forbidden", StringComparison.Ordinal))
        {
            return ErrorResult(403, "Forbidden", "The user, group or application does not have keys create permission on key vault.");
        }

        var body = JsonNode.Parse(context.Request.BodyReader.AsStream());
        if (body?["kty"]?.GetValue<string>() is not ("RSA" or "RSA-HSM"))
        {
            return ErrorResult(400, "BadParameter", "Property kty has invalid value.");
        }

        var size = body["key_size"]?.GetValue<int>() ?? 2048;
        var versions = _keys.GetOrAdd(name, _ => []);
        lock (versions)
        {
            versions.Add((Guid.NewGuid().ToString("N"), RSA.Create(size), DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            return Results.Json(Bundle(name, versions[^1]));
        }
    }

    private IResult Rotate(string name)
    {
        if (!_keys.TryGetValue(name, out var versions))
        {
            return KeyNotFound(name);
        }

        lock (versions)
        {
            versions.Add((Guid.NewGuid().ToString("N"), RSA.Create(versions[^1].Key.KeySize), DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            return Results.Json(Bundle(name, versions[^1]));
        }
    }

    private IResult Delete(string name)
    {
        if (!_keys.TryRemove(name, out var versions))
        {
            return KeyNotFound(name);
        }

        _deleted[name] = versions;
        var bundle = Bundle(name, versions[^1]);
        bundle["recoveryId"] = $"{VaultUri.GetLeftPart(UriPartial.Authority)}/deletedkeys/{name}";
        bundle["deletedDate"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Results.Json(bundle);
    }

    private IResult Purge(string name)
    {
        if (!_deleted.TryRemove(name, out var versions))
        {
            return ErrorResult(404, "KeyNotFound", $"Deleted Key not found: {name}");
        }

        foreach (var version in versions)
        {
            version.Key.Dispose();
        }

        return Results.NoContent();
    }

    public bool Exists(string name) => _keys.ContainsKey(name) || _deleted.ContainsKey(name);

    private IResult Get(string name, string? version) =>
        TryFind(name, version, out var found) ? Results.Json(Bundle(name, found)) : KeyNotFound(name);

    private IResult KeyOperation(string name, string version, string operation, HttpContext context)
    {
        if (!TryFind(name, version, out var found))
        {
            return KeyNotFound(name);
        }

        var body = JsonNode.Parse(context.Request.BodyReader.AsStream());
        if (body?["alg"]?.GetValue<string>() != "RSA-OAEP-256")
        {
            return ErrorResult(400, "BadParameter", "Algorithm is not supported for this key type.");
        }

        byte[] value;
        try
        {
            value = Base64Url.DecodeFromChars(body["value"]!.GetValue<string>());
        }
        catch (FormatException)
        {
            return ErrorResult(400, "BadParameter", "Property value has invalid value.");
        }

        byte[] result;
        try
        {
            result = operation switch
            {
                "wrapkey" => found.Key.Encrypt(value, RSAEncryptionPadding.OaepSHA256),
                "unwrapkey" => found.Key.Decrypt(value, RSAEncryptionPadding.OaepSHA256),
                _ => throw new NotSupportedException(),
            };
        }
        catch (CryptographicException)
        {
            return ErrorResult(400, "BadParameter", "Error decrypting the wrapped key.");
        }
        catch (NotSupportedException)
        {
            return ErrorResult(400, "BadParameter", "Unknown operation.");
        }

        return Results.Json(new JsonObject { ["kid"] = Kid(name, found.Version), ["value"] = Base64Url.EncodeToString(result) });
    }

    private bool TryFind(string name, string? version, out (string Version, RSA Key, long Created) found)
    {
        found = default;
        if (!_keys.TryGetValue(name, out var versions))
        {
            return false;
        }

        lock (versions)
        {
            var match = version is null ? versions.LastOrDefault() : versions.FirstOrDefault(v => v.Version == version);
            found = match;
            return match.Key is not null;
        }
    }

    private JsonObject Bundle(string name, (string Version, RSA Key, long Created) key)
    {
        var parameters = key.Key.ExportParameters(false);
        return new JsonObject
        {
            ["key"] = new JsonObject
            {
                ["kid"] = Kid(name, key.Version),
                ["kty"] = "RSA",
                ["key_ops"] = new JsonArray("wrapKey", "unwrapKey"),
                ["n"] = Base64Url.EncodeToString(parameters.Modulus),
                ["e"] = Base64Url.EncodeToString(parameters.Exponent),
            },
            ["attributes"] = new JsonObject
            {
                ["enabled"] = true,
                ["created"] = key.Created,
                ["updated"] = key.Created,
                ["recoveryLevel"] = "Recoverable+Purgeable",
            },
        };
    }

    private string Kid(string name, string version) => $"{VaultUri.GetLeftPart(UriPartial.Authority)}/keys/{name}/{version}";

    private static IResult KeyNotFound(string name) =>
        ErrorResult(404, "KeyNotFound", $"A key with (name/id) {name} was not found in this key vault.");

    private static IResult ErrorResult(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, statusCode: status);

    private static Task Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }
}

/// <summary>A fixed bearer token, for tests against the local vault.</summary>
internal sealed class StaticTokenCredential(string token) : TokenCredential
{
    public int Requests;

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Requests);
        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
