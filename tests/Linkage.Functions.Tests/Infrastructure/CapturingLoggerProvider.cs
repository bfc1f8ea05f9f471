using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>
/// Keeps every log line the app writes (message, exception text, structured values, and the values of the scopes it was
/// written in) so tests can search them. Structured values and scopes are indented lines after their message.
/// </summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (k, v) in values)
                {
                    owner.Lines.Enqueue($"  {k}={v}");
                }
            }

            owner._scopes.ForEachScope(
                static (scope, lines) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (k, v) in pairs)
                        {
                            lines.Enqueue($"  scope {k}={v}");
                        }
                    }
                    else if (scope is not null)
                    {
                        lines.Enqueue($"  scope {scope}");
                    }
                },
                owner.Lines);
        }
    }
}
