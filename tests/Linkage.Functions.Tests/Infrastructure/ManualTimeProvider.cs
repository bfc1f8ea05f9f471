namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>A clock the test moves by hand, so retry and backoff decisions do not depend on how loaded the machine is.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
