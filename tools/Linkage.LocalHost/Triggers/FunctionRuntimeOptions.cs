namespace Linkage.Functions.Runtime;

/// <summary>Settings of the local trigger runtime (section <c>Runtime</c>).</summary>
public sealed class FunctionRuntimeOptions
{
    public const string SectionName = "Runtime";

    /// <summary>
    /// <c>Local</c>: this program runs its own listeners (development, tests, a plain App Service).
    /// <c>CustomHandler</c>: the Azure Functions host triggers functions through the custom-handler protocol.
    /// Defaults to CustomHandler when the Functions host set <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>, else Local.
    /// </summary>
    public string Mode { get; set; } = "";

    /// <summary>Shared by all instances of one app: receipts, leases and timer status are kept per host id.</summary>
    public string HostId { get; set; } = "linkage";

    /// <summary>Container for receipts, locks and timer status (the Functions host uses the same name).</summary>
    public string HostContainer { get; set; } = "azure-webjobs-hosts";

    /// <summary>Zones whose functions this instance runs, comma-separated: ttp, processor, provisioning.</summary>
    public string Zones { get; set; } = "ttp,processor,provisioning";

    public TimeSpan BlobPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan TimerPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Tries per blob version or queue message before it is poisoned (Functions default: 5).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay before the second try; doubles each time, capped by <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Blob versions processed at once per function.</summary>
    public int MaxConcurrentBlobs { get; set; } = 2;

    /// <summary>Lease on a receipt or timer lock; renewed while work runs (15–60 s, as Blob storage allows).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsLocal => !string.Equals(Mode, "CustomHandler", StringComparison.OrdinalIgnoreCase);

    public IReadOnlySet<FunctionZone> EnabledZones =>
        Zones.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(z => Enum.Parse<FunctionZone>(z, ignoreCase: true))
            .Append(FunctionZone.Platform)
            .ToHashSet();

    public TimeSpan RetryDelayFor(int failures)
    {
        double seconds = RetryDelay.TotalSeconds * Math.Pow(2, Math.Max(0, failures - 1));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxRetryDelay.TotalSeconds));
    }
}
