namespace Linkage.Functions.Deliveries;

/// <summary>
/// How a failed delivery is retried (section <c>Deliveries</c>). Carried in the workflow's input, so a workflow under way
/// keeps the policy it started with (orchestrations must replay deterministically).
/// </summary>
public sealed record DeliveryRetryPolicy
{
    public const string SectionName = "Deliveries";

    /// <summary>Attempts for transient and waiting failures, crashed attempts included.</summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>Attempts for configuration errors and defects: retrying rarely helps, holding early tells an operator.</summary>
    public int MaxAttemptsUnexpected { get; init; } = 3;

    /// <summary>Wait before the second attempt; doubles each time up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait between attempts. With the defaults the attempts span about four and a half hours.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(2);

    /// <summary>The wait before the next attempt, or null when the delivery is to be held.</summary>
    public TimeSpan? NextDelay(FailureClass failure, int attempts)
    {
        int max = failure switch
        {
            FailureClass.Transient or FailureClass.Waiting => MaxAttempts,
            FailureClass.Configuration or FailureClass.Unexpected => Math.Min(MaxAttempts, MaxAttemptsUnexpected),
            _ => 0,
        };
        if (attempts >= max)
        {
            return null;
        }

        double seconds = FirstRetryDelay.TotalSeconds * Math.Pow(2, Math.Max(0, attempts - 1));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxRetryDelay.TotalSeconds));
    }
}
