using System.Collections.Concurrent;
using System.Net;
using Azure.Core;
using Linkage.Azure.Cosmos;
using Linkage.Azure.Tests.Infrastructure;

namespace Linkage.Azure.Tests.Cosmos;

/// <summary>The Entra ID path of the factory: the SDK asks the given credential for tokens and sends them.</summary>
[Collection(LocalStackCollection.Name)]
public class CosmosClientFactoryCredentialTests(LocalStackFixture stack)
{
    // A real credential that hands out one fixed token and remembers the scopes it was asked for (the stand-in
    // accepts any authorization, so this checks the wiring, not Entra ID).
    private sealed class FixedTokenCredential : TokenCredential
    {
        public ConcurrentBag<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (string scope in requestContext.Scopes)
            {
                Scopes.Add(scope);
            }

            return new AccessToken("local-test-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    [Fact]
    public async Task A_token_credential_client_gets_its_token_from_the_credential()
    {
        var credential = new FixedTokenCredential();
        using var client = CosmosClientFactory.Create(new Uri(stack.Stack.CosmosEndpoint), credential);

        var created = await client.CreateDatabaseAsync(LocalStackFixture.UniqueName("aad"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains(credential.Scopes, s => s.EndsWith("/.default", StringComparison.Ordinal));
    }
}
