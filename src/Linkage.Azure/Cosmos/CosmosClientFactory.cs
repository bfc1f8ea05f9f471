using System.Text.Json;
using Azure.Core;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Cosmos;

/// <summary>
/// Creates the <see cref="CosmosClient"/> production uses: Gateway mode (HTTPS only, one endpoint to allow through a
/// firewall or private endpoint), <c>LimitToEndpoint</c> (never switch to a regional endpoint the account advertises),
/// System.Text.Json with web defaults (camelCase, as the documents are written), and bounded 429 retries.
/// </summary>
/// <remarks>
/// Create one client per account and keep it for the life of the app: a client owns connections and caches.
/// Nothing here knows about the local stand-in; the development stack adapts to the real SDK, not the reverse.
/// </remarks>
public static class CosmosClientFactory
{
    /// <summary>A client that signs requests with the account key (local stack, or where keys are allowed).</summary>
    public static CosmosClient Create(Uri endpoint, string accountKey, CosmosConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(accountKey);
        return new CosmosClient(endpoint.AbsoluteUri, accountKey, CreateClientOptions(options ?? new CosmosConnectionOptions()));
    }

    /// <summary>A client authenticated with Entra ID (managed identity in Azure).</summary>
    public static CosmosClient Create(Uri endpoint, TokenCredential credential, CosmosConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(credential);
        return new CosmosClient(endpoint.AbsoluteUri, credential, CreateClientOptions(options ?? new CosmosConnectionOptions()));
    }

    /// <summary>The SDK options behind both <c>Create</c> overloads.</summary>
    public static CosmosClientOptions CreateClientOptions(CosmosConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new CosmosClientOptions
        {
            ApplicationName = options.ApplicationName,
            ConnectionMode = ConnectionMode.Gateway,
            LimitToEndpoint = true,
            RequestTimeout = options.RequestTimeout,
            MaxRetryAttemptsOnRateLimitedRequests = options.MaxRetryAttemptsOnThrottle,
            MaxRetryWaitTimeOnRateLimitedRequests = options.MaxRetryWaitOnThrottle,
            UseSystemTextJsonSerializerWithOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web),
            EnableContentResponseOnWrite = true,
        };
    }
}
