namespace Linkage.Azure.Cosmos;

/// <summary>Client settings for <see cref="CosmosClientFactory"/>; the defaults suit the function app.</summary>
public sealed class CosmosConnectionOptions
{
    /// <summary>Sent as the user agent suffix, to tell this app's requests apart in diagnostics.</summary>
    public string ApplicationName { get; init; } = "linkage";

    /// <summary>How long one request may take before the SDK gives up on it.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of a request throttled with 429 before it fails.</summary>
    public int MaxRetryAttemptsOnThrottle { get; init; } = 9;

    /// <summary>Total time spent waiting between retries of a throttled request.</summary>
    public TimeSpan MaxRetryWaitOnThrottle { get; init; } = TimeSpan.FromSeconds(30);
}
