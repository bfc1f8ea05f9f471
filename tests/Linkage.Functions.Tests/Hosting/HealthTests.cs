using System.Net;
using System.Text.Json;
using Linkage.Azure.Tests.Infrastructure;
using Linkage.Functions.Health;
using Linkage.Functions.Hosting;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Hosting;

/// <summary>
/// <c>GET /api/health</c> tells the real state of each dependency with a stable code, 503 while one is down, never
/// exception text; and the key ring, whose first creation failed during the outage, recovers in the same instance.
/// The outage is real: the app reaches the Cosmos stand-in or Azurite through a <see cref="TcpGate"/>.
/// </summary>
[Collection(LocalStackCollection.Name)]
public sealed class HealthTests(LocalStackFixture stack)
{
    private static readonly string[] StableCodes = [HealthFunction.Codes.Timeout, HealthFunction.Codes.Unavailable, HealthFunction.Codes.AccessDenied, HealthFunction.Codes.Error];

    [Fact]
    public async Task Cosmos_down_is_503_without_exception_text_and_the_same_instance_recovers()
    {
        await using var gate = new TcpGate(new Uri(stack.Stack.CosmosEndpoint).Port, GateMode.Refuse);
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?>
        {
            ["Cosmos:Endpoint"] = gate.Rewrite(stack.Stack.CosmosEndpoint),
            ["Cosmos:Database"] = LocalStackFixture.UniqueName("health"),
        });
        using var http = app.CreateClient();

        var (status, body, text) = await HealthAsync(http);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        foreach (string name in new[] { "cosmos", "keys" })
        {
            var dependency = Dependency(body, name);
            Assert.Equal("failing", dependency.GetProperty("status").GetString());
            Assert.Contains(dependency.GetProperty("code").GetString(), StableCodes);
        }

        Assert.Equal("ok", Dependency(body, "blob-storage").GetProperty("status").GetString());
        AssertNoExceptionText(text, gate.Port, stack.Stack.CosmosKey);
        Assert.Contains(app.Logs.Lines, l => l.Contains("Health check of cosmos failed", StringComparison.Ordinal)); // logged server-side instead

        gate.Mode = GateMode.Open;
        var recovered = await Wait.ForAsync(async () => await HealthAsync(http) is { Status: HttpStatusCode.OK } ok ? ok.Text : null, seconds: 90);
        var healthy = JsonDocument.Parse(recovered).RootElement;
        Assert.Equal("healthy", healthy.GetProperty("status").GetString());
        Assert.All(healthy.GetProperty("dependencies").EnumerateArray(), d => Assert.Equal("ok", d.GetProperty("code").GetString()));

        // The key ring whose first creation failed above now hands out keys, in the same instance.
        using var cipher = await app.Services.GetRequiredService<KeyRingProvider>().GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None);
        Assert.Equal(KeyPurposes.VersionLabel(KeyPurposes.ProcessorId, 1), cipher.KeyVersion);
    }

    [Fact]
    public async Task Storage_down_is_503_without_exception_text_and_200_when_back()
    {
        var blobPort = stack.Stack.BlobServiceUri.Port;
        await using var gate = new TcpGate(blobPort, GateMode.Refuse);
        string connection = stack.Stack.StorageConnectionString.Replace($":{blobPort}/", $":{gate.Port}/", StringComparison.Ordinal);
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["DataStorage:ConnectionString"] = connection });
        using var http = app.CreateClient();

        var (status, body, text) = await HealthAsync(http);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var blob = Dependency(body, "blob-storage");
        Assert.Equal("failing", blob.GetProperty("status").GetString());
        Assert.Contains(blob.GetProperty("code").GetString(), StableCodes);
        Assert.Equal("ok", Dependency(body, "queue-storage").GetProperty("status").GetString());
        AssertNoExceptionText(text, gate.Port, Linkage.DevStack.LocalStack.AccountKey);

        gate.Mode = GateMode.Open;
        await Wait.ForAsync(async () => await HealthAsync(http) is { Status: HttpStatusCode.OK } ok ? ok.Text : null, seconds: 90);
    }

    [Fact]
    public async Task A_cancelled_first_use_of_the_key_ring_does_not_poison_it()
    {
        await using var gate = new TcpGate(new Uri(stack.Stack.CosmosEndpoint).Port, GateMode.Hold);
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?>
        {
            ["Cosmos:Endpoint"] = gate.Rewrite(stack.Stack.CosmosEndpoint),
            ["Cosmos:Database"] = LocalStackFixture.UniqueName("ring"),
        });
        var keys = app.Services.GetRequiredService<KeyRingProvider>();

        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => keys.GetCipherAsync(KeyPurposes.ProcessorId, impatient.Token));
        }

        gate.Mode = GateMode.Open;
        using var cipher = await keys.GetCipherAsync(KeyPurposes.ProcessorId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(KeyPurposes.VersionLabel(KeyPurposes.ProcessorId, 1), cipher.KeyVersion);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, string Text)> HealthAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/api/health", UriKind.Relative));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement, text);
    }

    private static JsonElement Dependency(JsonElement body, string name) =>
        body.GetProperty("dependencies").EnumerateArray().Single(d => d.GetProperty("name").GetString() == name);

    private static void AssertNoExceptionText(string text, int port, string secret)
    {
        foreach (string leak in new[] { "Exception", " at ", "127.0.0.1", "localhost", port.ToString(System.Globalization.CultureInfo.InvariantCulture), secret, "AccountKey", "Endpoint", "refused", "reset" })
        {
            Assert.DoesNotContain(leak, text, StringComparison.OrdinalIgnoreCase);
        }
    }
}
