using System.ComponentModel;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Linkage.LocalHost.Functions;

/// <summary>
/// Calls a <c>[Function]</c> method as the isolated worker does: a new instance of its class per invocation, built by
/// dependency injection in a scope of its own, with each parameter bound from the trigger, the binding data (route
/// values, blob path values, the activity's instance id), the <see cref="FunctionContext"/>, the cancellation token
/// or the durable client.
/// </summary>
public sealed class FunctionInvoker(IServiceProvider services)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Runs <paramref name="function"/>; returns what it returned (awaited), or null for a plain Task.</summary>
    public async Task<object?> InvokeAsync(AppFunction function, object? trigger, IReadOnlyDictionary<string, object?> bindingData, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var context = new LocalFunctionContext(function, scope.ServiceProvider, bindingData, cancellationToken);
        object? instance = function.Method.IsStatic ? null : ActivatorUtilities.CreateInstance(scope.ServiceProvider, function.Method.DeclaringType!);
        try
        {
            var args = function.Method.GetParameters().Select(p => Bind(function, p, trigger, bindingData, context, cancellationToken)).ToArray();
            object? returned;
            try
            {
                returned = function.Method.Invoke(instance, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }

            return await AwaitAsync(returned);
        }
        finally
        {
            switch (instance)
            {
                case IAsyncDisposable a:
                    await a.DisposeAsync();
                    break;
                case IDisposable d:
                    d.Dispose();
                    break;
            }
        }
    }

    /// <summary>
    /// Runs an orchestrator function on the engine's thread and hands back its task. The scope ends when the call returns:
    /// orchestration code replays and must not hold services across awaits.
    /// </summary>
    public Task<object?> InvokeOrchestration(AppFunction function, object context)
    {
        using var scope = services.CreateScope();
        var functionContext = new LocalFunctionContext(function, scope.ServiceProvider, new Dictionary<string, object?>(), CancellationToken.None);
        object? instance = function.Method.IsStatic ? null : ActivatorUtilities.CreateInstance(scope.ServiceProvider, function.Method.DeclaringType!);
        var args = function.Method.GetParameters().Select(p => p.Position == function.TriggerParameter.Position ? context : Bind(function, p, null, new Dictionary<string, object?>(), functionContext, CancellationToken.None)).ToArray();
        try
        {
            return AwaitAsync(function.Method.Invoke(instance, args));
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private object? Bind(AppFunction function, ParameterInfo p, object? trigger, IReadOnlyDictionary<string, object?> bindingData, FunctionContext context, CancellationToken ct)
    {
        // By position, not reference: reflection may hand out new ParameterInfo objects for the same parameter.
        if (p.Position == function.TriggerParameter.Position)
        {
            return Convert(trigger, p.ParameterType, function, p);
        }

        if (p.GetCustomAttribute<DurableClientAttribute>() is not null)
        {
            return context.InstanceServices.GetRequiredService<DurableTaskClient>();
        }

        if (p.ParameterType == typeof(FunctionContext))
        {
            return context;
        }

        if (p.ParameterType == typeof(CancellationToken))
        {
            return ct;
        }

        var match = bindingData.FirstOrDefault(kv => string.Equals(kv.Key, p.Name, StringComparison.OrdinalIgnoreCase));
        if (match.Key is not null)
        {
            return Convert(match.Value, p.ParameterType, function, p);
        }

        if (p.HasDefaultValue)
        {
            return p.DefaultValue;
        }

        throw new InvalidOperationException($"The local host cannot bind parameter '{p.Name}' ({p.ParameterType.Name}) of function {function.Name}.");
    }

    private static object? Convert(object? value, Type type, AppFunction function, ParameterInfo p)
    {
        if (value is null || type.IsInstanceOfType(value))
        {
            return value;
        }

        if (value is string s)
        {
            var converter = TypeDescriptor.GetConverter(type);
            if (converter.CanConvertFrom(typeof(string)) && type != typeof(object))
            {
                return converter.ConvertFromInvariantString(s);
            }

            return JsonSerializer.Deserialize(s, type, Json);
        }

        if (value is JsonElement e)
        {
            return e.Deserialize(type, Json);
        }

        throw new InvalidOperationException($"The local host cannot pass a {value.GetType().Name} to parameter '{p.Name}' ({type.Name}) of function {function.Name}.");
    }

    private static async Task<object?> AwaitAsync(object? returned)
    {
        switch (returned)
        {
            case Task task:
                await task;
                var type = task.GetType();
                return type.IsGenericType && type.GetProperty("Result") is { } result && result.PropertyType.Name != "VoidTaskResult" ? result.GetValue(task) : null;
            case ValueTask valueTask:
                await valueTask;
                return null;
            default:
                return returned;
        }
    }
}
