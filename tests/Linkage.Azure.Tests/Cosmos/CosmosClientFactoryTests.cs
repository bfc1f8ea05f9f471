using System.Text.Json;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Azure.Tests.Cosmos;

public class CosmosClientFactoryTests
{
    [Fact]
    public void Client_options_are_gateway_limited_to_the_endpoint_with_web_json()
    {
        var options = CosmosClientFactory.CreateClientOptions(new CosmosConnectionOptions { MaxRetryAttemptsOnThrottle = 4 });

        Assert.Equal(ConnectionMode.Gateway, options.ConnectionMode);
        Assert.True(options.LimitToEndpoint);
        Assert.Equal(4, options.MaxRetryAttemptsOnRateLimitedRequests);
        Assert.Same(JsonNamingPolicy.CamelCase, options.UseSystemTextJsonSerializerWithOptions!.PropertyNamingPolicy);
    }

    [Fact]
    public void Create_rejects_a_missing_key()
    {
        Assert.Throws<ArgumentException>(() => CosmosClientFactory.Create(new Uri("http://127.0.0.1:1/"), " "));
    }
}
