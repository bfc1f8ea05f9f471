namespace Linkage.LocalHost;

/// <summary>Settings of the local host (section <c>Runtime</c>, shared with the app's <c>Runtime:Zones</c>).</summary>
public sealed class LocalHostOptions
{
    public const string SectionName = "Runtime";

    /// <summary>Shared by all instances of one app: receipts, leases and timer status are kept per host id.</summary>
    public string HostId { get; set; } = "linkage";

    /// <summary>Container for receipts, locks and timer status (the Functions host uses the same name).</summary>
    public string HostContainer { get; set; } = "azure-webjobs-hosts";

    /// <summary>
    /// Whether triggers fire and the Durable Task worker runs. False serves HTTP and the app's services only: for tests
    /// that call the services themselves and must not race a trigger.
    /// </summary>
    public bool Listeners { get; set; } = true;

    /// <summary>
    /// This instance's Durable Task worker id. Default: machine and host id, so a restarted host takes its partition back
    /// at once instead of waiting out the dead one's lease. Give each of several instances of one app its own.
    /// </summary>
    public string? WorkerId { get; set; }

    public TimeSpan BlobPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan TimerPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Tries per blob version or queue message before it is poisoned (the Functions default: 5). Crashed tries count.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay before the second try; doubles each time, capped by <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Blob versions processed at once per function.</summary>
    public int MaxConcurrentBlobs { get; set; } = 2;

    /// <summary>Lease on a receipt or timer lock; renewed while work runs (15–60 s, as Blob storage allows).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Durable Task: how long a work item a crashed host was running stays invisible before another takes it.</summary>
    public TimeSpan DurableVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Durable Task: longest wait between polls of an idle queue.</summary>
    public TimeSpan DurablePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryDelayFor(int failures)
    {
        double seconds = RetryDelay.TotalSeconds * Math.Pow(2, Math.Max(0, failures - 1));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxRetryDelay.TotalSeconds));
    }
}
