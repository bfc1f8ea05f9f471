using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Hosting;

/// <summary>
/// The named points of an intake's commit protocol (check, stage, commit, publish…). Services call
/// <see cref="ReachedAsync"/> as they pass each one, so a test can stop the process exactly there. In production this is
/// <see cref="NoStepFaults"/>: it does nothing.
/// </summary>
public interface IStepFaults
{
    ValueTask ReachedAsync(string step, CancellationToken cancellationToken);
}

/// <summary>The production implementation: no faults.</summary>
public sealed class NoStepFaults : IStepFaults
{
    public ValueTask ReachedAsync(string step, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>What a configured fault does at its step.</summary>
public enum StepFaultAction
{
    /// <summary>Throws <see cref="InjectedFaultException"/>: the attempt fails as an unexpected error would.</summary>
    Throw,

    /// <summary>Kills the process at once (no finally block, no disposal): a crashed machine.</summary>
    Kill,
}

/// <summary>Fault injection for tests (section <c>Faults</c>); honoured only in the Development environment.</summary>
public sealed class StepFaultOptions
{
    public const string SectionName = "Faults";

    /// <summary>Steps to fail at, comma-separated (e.g. <c>File1.Committed</c>); empty: none.</summary>
    public string At { get; set; } = "";

    public StepFaultAction Action { get; set; } = StepFaultAction.Throw;

    /// <summary>How many times each step fails in this process before it is let through (0: every time).</summary>
    public int Times { get; set; } = 1;

    public IReadOnlySet<string> Steps => At.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
}

/// <summary>Fails at the configured steps: the fault-injection suite's way to stop an intake between two steps.</summary>
public sealed class ConfiguredStepFaults(IOptions<StepFaultOptions> options, ILogger<ConfiguredStepFaults> logger) : IStepFaults
{
    private readonly ConcurrentDictionary<string, int> _fired = new(StringComparer.Ordinal);

    public ValueTask ReachedAsync(string step, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Steps.Contains(step))
        {
            return ValueTask.CompletedTask;
        }

        int fired = _fired.AddOrUpdate(step, 1, (_, n) => n + 1);
        if (o.Times > 0 && fired > o.Times)
        {
            return ValueTask.CompletedTask;
        }

        logger.LogWarning("Injected fault at {Step} ({Action}, {Fired} of {Times})", step, o.Action, fired, o.Times);
        if (o.Action == StepFaultAction.Kill)
        {
            // SIGKILL of our own process: nothing after this line runs, exactly as when a machine dies.
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }

        throw new InjectedFaultException(step);
    }
}

/// <summary>Thrown at a step the <c>Faults</c> settings name.</summary>
public sealed class InjectedFaultException(string step) : Exception($"Injected fault at {step}")
{
    public string Step { get; } = step;
}

public static class StepFaultsExtensions
{
    /// <summary>
    /// Registers <see cref="ConfiguredStepFaults"/> in Development (it does nothing while <c>Faults:At</c> is empty), and
    /// <see cref="NoStepFaults"/> elsewhere: outside Development the settings are ignored, so a stray setting cannot
    /// break a production intake.
    /// </summary>
    public static IHostApplicationBuilder AddStepFaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StepFaultOptions>().BindConfiguration(StepFaultOptions.SectionName);
        if (builder.Environment.IsDevelopment())
        {
            builder.Services.AddSingleton<IStepFaults, ConfiguredStepFaults>();
        }
        else
        {
            builder.Services.AddSingleton<IStepFaults, NoStepFaults>();
        }

        return builder;
    }
}
