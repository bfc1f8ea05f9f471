using System.Collections.Concurrent;

namespace Linkage.Azure;

/// <summary>
/// A value created once by an asynchronous initialisation (a Cosmos container, the key ring) and then shared, which,
/// unlike <c>Lazy&lt;Task&lt;T&gt;&gt;</c>, does not keep a failure: a faulted or cancelled initialisation is dropped and
/// the next caller starts a fresh one, so a transient outage at first use does not break the instance until restart.
/// </summary>
/// <remarks>
/// The initialisation runs with its own token (cancelled after <c>timeout</c> or on <see cref="Dispose"/>), never a
/// caller's: a caller that gives up stops waiting, but the shared work goes on for the others. Thread-safe.
/// </remarks>
public sealed class RecoverableAsyncLazy<T>(Func<CancellationToken, Task<T>> factory, TimeSpan timeout) : IDisposable
{
    /// <summary>How long an initialisation may run when the owner does not say (it is retried on the next call if it times out).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposed = new();
    private Task<T>? _current;

    public RecoverableAsyncLazy(Func<CancellationToken, Task<T>> factory)
        : this(factory, DefaultTimeout)
    {
    }

    /// <summary>The value, starting (or restarting, after a failure) its initialisation if needed; waits with the caller's token.</summary>
    public Task<T> GetAsync(CancellationToken cancellationToken)
    {
        Task<T> task;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (_current is null || _current.IsFaulted || _current.IsCanceled)
            {
                // Task.Run: the factory's synchronous part (file I/O for a local key) must not run under the lock.
                _current = Task.Run(InitialiseAsync, CancellationToken.None);
            }

            task = _current;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>The value if an initialisation has completed successfully; never starts one.</summary>
    public bool TryGetValue(out T value)
    {
        lock (_lock)
        {
            if (_current is { IsCompletedSuccessfully: true } done)
            {
                value = done.Result;
                return true;
            }
        }

        value = default!;
        return false;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (!_disposed.IsCancellationRequested)
            {
                _disposed.Cancel(); // stops an initialisation still running; _disposed itself is left for it to observe
            }
        }
    }

    private async Task<T> InitialiseAsync()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        cts.CancelAfter(timeout);
        return await factory(cts.Token);
    }
}

/// <summary>One <see cref="RecoverableAsyncLazy{T}"/> per key: e.g. each Cosmos container, created on its first use.</summary>
public sealed class RecoverableAsyncCache<TKey, TValue>(TimeSpan timeout) : IDisposable
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, RecoverableAsyncLazy<TValue>> _entries = new();

    public RecoverableAsyncCache()
        : this(RecoverableAsyncLazy<TValue>.DefaultTimeout)
    {
    }

    /// <summary>
    /// The key's value, created by <paramref name="factory"/> (the entry keeps the factory it was first given, for retries);
    /// a failed or cancelled creation is retried by the next caller.
    /// </summary>
    public Task<TValue> GetAsync(TKey key, Func<TKey, CancellationToken, Task<TValue>> factory, CancellationToken cancellationToken) =>
        // GetOrAdd may build a spare entry under a race; entries start nothing until asked, so the spare is harmless.
        _entries.GetOrAdd(key, k => new RecoverableAsyncLazy<TValue>(ct => factory(k, ct), timeout)).GetAsync(cancellationToken);

    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Dispose();
        }
    }
}
