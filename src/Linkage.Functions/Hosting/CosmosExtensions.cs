using Azure.Identity;
using Linkage.Azure.Cosmos;
using Linkage.Functions.Health;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Hosting;

public static class CosmosExtensions
{
    /// <summary>
    /// Registers the Cosmos client (account key when configured, managed identity otherwise) and the app's database.
    /// </summary>
    public static IHostApplicationBuilder AddLinkageCosmos(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CosmosOptions>().BindConfiguration(CosmosOptions.SectionName)
            .Validate(o => o.Endpoint is not null, "Set Cosmos:Endpoint (the account's https://…:443/ URI, or the local stand-in's).")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CosmosOptions>>().Value;
            return string.IsNullOrEmpty(o.Key)
                ? CosmosClientFactory.Create(o.Endpoint!, new DefaultAzureCredential())
                : CosmosClientFactory.Create(o.Endpoint!, o.Key);
        });
        builder.Services.AddSingleton(sp => new CosmosDatabase(
            sp.GetRequiredService<CosmosClient>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CosmosOptions>>().Value.Database));
        builder.Services.AddDependencyCheck<CosmosCheck>();
        return builder;
    }

    private sealed class CosmosCheck(CosmosClient client) : IDependencyCheck
    {
        public string Name => "cosmos";

        // ReadAccountAsync takes no token; WaitAsync lets the health check give up on it in time.
        public async Task CheckAsync(CancellationToken cancellationToken) => await client.ReadAccountAsync().WaitAsync(cancellationToken);
    }
}
