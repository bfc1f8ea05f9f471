namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>Polls until a condition holds; on timeout, says what the app last warned about.</summary>
internal static class Wait
{
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, int seconds = 90, CapturingLoggerProvider? logs = null)
        where T : class
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(200);
        }

        string problems = logs is null ? "" : string.Join('\n', logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)).TakeLast(5));
        throw new TimeoutException($"Nothing after {seconds} s. {problems}");
    }
}
