namespace Linkage.Functions.Deliveries;

/// <summary>The input of a delivery workflow: which blob version, and the retry policy it runs under.</summary>
public sealed record DeliveryWork(string DeliveryId, string Inbox, string BlobName, string ETag, DeliveryRetryPolicy Policy, int Generation = 0)
{
    public DeliveryRef Ref => new(Inbox, BlobName, ETag);
}

/// <summary>What one attempt came to: a final state (the workflow ends), or a failure to retry or hold.</summary>
public sealed record AttemptResult(DeliveryState? Final, string? Outcome, FailureClass Failure, int Attempts, string? Error)
{
    public static AttemptResult Done(string outcome, int attempts) => new(DeliveryState.Completed, outcome, FailureClass.None, attempts, null);

    /// <summary>Nothing more for this workflow to do: the delivery is held, or a re-drive gave it a newer workflow.</summary>
    public static AttemptResult Stop(DeliveryState state, string reason, int attempts) => new(state, reason, FailureClass.None, attempts, null);

    public static AttemptResult Failed(FailureClass failure, int attempts, string error) => new(null, null, failure, attempts, error);
}

/// <summary>How a delivery workflow ended.</summary>
public sealed record DeliveryResult(string DeliveryId, DeliveryState State, string? Outcome, int Attempts, FailureClass Failure);

/// <summary>Input of <see cref="HoldDeliveryActivity"/>.</summary>
public sealed record HoldRequest(string DeliveryId, FailureClass Failure, string? Error, int Generation = 0);

/// <summary>What a workflow shows while it waits to try again (its custom status).</summary>
public sealed record DeliveryProgress(int Attempts, FailureClass LastFailure, DateTime NextAttemptAt);
