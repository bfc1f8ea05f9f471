using System.Reflection;
using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;

namespace Linkage.LocalHost.Functions;

public enum TriggerKind
{
    Blob,
    Queue,
    Timer,
    Http,
    Orchestration,
    Activity,
}

/// <summary>
/// One <c>[Function]</c> of the app as its own attributes declare it: the trigger parameter and attribute, read from the
/// code, so there is no second list to keep in step. <c>%Setting%</c> in paths, queue names and schedules is resolved
/// from configuration, as the Functions host does.
/// </summary>
public sealed record AppFunction(FunctionEntry Entry, TriggerKind Kind, ParameterInfo TriggerParameter, Attribute Trigger)
{
    public string Name => Entry.Name;

    public MethodInfo Method => Entry.Method;

    public static IReadOnlyList<AppFunction> Discover(IEnumerable<FunctionEntry> entries) => entries.Select(From).ToList();

    public static AppFunction From(FunctionEntry entry)
    {
        foreach (var p in entry.Method.GetParameters())
        {
            foreach (var a in p.GetCustomAttributes())
            {
                TriggerKind? kind = a switch
                {
                    BlobTriggerAttribute => TriggerKind.Blob,
                    QueueTriggerAttribute => TriggerKind.Queue,
                    TimerTriggerAttribute => TriggerKind.Timer,
                    HttpTriggerAttribute => TriggerKind.Http,
                    OrchestrationTriggerAttribute => TriggerKind.Orchestration,
                    ActivityTriggerAttribute => TriggerKind.Activity,
                    _ => null,
                };
                if (kind is { } k)
                {
                    return new AppFunction(entry, k, p, a);
                }
            }
        }

        throw new InvalidOperationException($"Function {entry.Name} ({entry.Method.DeclaringType?.Name}.{entry.Method.Name}) has no trigger the local host knows.");
    }

    /// <summary>Resolves <c>%name%</c> placeholders from configuration (keys may use ':' or '__').</summary>
    public static string Resolve(string value, IConfiguration configuration)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var parts = value.Split('%');
        for (int i = 1; i < parts.Length; i += 2)
        {
            string key = parts[i].Replace("__", ":", StringComparison.Ordinal);
            parts[i] = configuration[key] ?? throw new InvalidOperationException($"The setting '{parts[i]}' used in a trigger ('{value}') is not configured.");
        }

        return string.Concat(parts);
    }
}
