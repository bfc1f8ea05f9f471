using Microsoft.Extensions.Options;

namespace Linkage.Functions.Runtime;

/// <summary>The functions this instance runs: every registered function whose zone is enabled.</summary>
public sealed class FunctionCatalog
{
    private readonly Dictionary<string, IFunction> _byName;

    public FunctionCatalog(IEnumerable<IFunction> functions, IOptions<FunctionRuntimeOptions> options)
    {
        var zones = options.Value.EnabledZones;
        _byName = new Dictionary<string, IFunction>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in functions.Where(f => zones.Contains(f.Definition.Zone)))
        {
            if (!_byName.TryAdd(f.Definition.Name, f))
            {
                throw new InvalidOperationException($"Two functions are named '{f.Definition.Name}'; function names must be unique.");
            }
        }
    }

    public IReadOnlyCollection<IFunction> Functions => _byName.Values;

    public bool TryGet(string name, out IFunction function) => _byName.TryGetValue(name, out function!);
}
