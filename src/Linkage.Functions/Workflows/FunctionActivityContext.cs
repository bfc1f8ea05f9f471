using Microsoft.DurableTask;

namespace Linkage.Functions.Workflows;

/// <summary>The activity context a <c>[Function]</c> hands to its <see cref="TaskActivity{TInput,TOutput}"/> class (what the Durable Task source generator would write).</summary>
public sealed class FunctionActivityContext(string name, string instanceId) : TaskActivityContext
{
    public override TaskName Name { get; } = new(name);

    public override string InstanceId { get; } = instanceId;
}
