using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace Linkage.Functions.Hosting;

/// <summary>
/// The zone a function belongs to. A deployment enables a chosen set of zones, so the trusted third party (TTP) runs as
/// its own app, with its own identity, and never runs the TRE-side functions (and vice versa).
/// </summary>
public enum FunctionZone
{
    /// <summary>Touches identifiers: File 1 intake, NHS Output, registry.</summary>
    Ttp,

    /// <summary>Encrypted data only: File 2 intake, curation.</summary>
    Processor,

    /// <summary>Per-project provisioning for project admins.</summary>
    Provisioning,

    /// <summary>Shared plumbing (health, deliveries, workflows, audit), present in every deployment.</summary>
    Platform,
}

/// <summary>Puts every <c>[Function]</c> of a class into a zone. A function class without it does not build (a test checks).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ZoneAttribute(FunctionZone zone) : Attribute
{
    public FunctionZone Zone { get; } = zone;
}

/// <summary>Which zones this app runs (setting <c>Runtime:Zones</c>).</summary>
public sealed class ZoneOptions
{
    public const string SectionName = "Runtime";

    /// <summary>What an unset <see cref="Zones"/> means in Development (and only there): every zone in one app.</summary>
    public const string DevelopmentDefault = "ttp,processor,provisioning";

    /// <summary>
    /// Zones whose functions this app runs, comma-separated: ttp, processor, provisioning (platform always). Required
    /// outside Development, where a missing list would silently run the TTP and the TRE side in one app.
    /// </summary>
    public string Zones { get; set; } = "";

    public IReadOnlySet<FunctionZone> EnabledZones =>
        Zones.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(z => Enum.Parse<FunctionZone>(z, ignoreCase: true))
            .Append(FunctionZone.Platform)
            .ToHashSet();
}

/// <summary>One <c>[Function]</c> of the app, its zone and the method that implements it.</summary>
public sealed record FunctionEntry(string Name, FunctionZone Zone, MethodInfo Method)
{
    /// <summary>The Functions host's switch for one function: an app setting, true to keep it from running.</summary>
    public string DisabledSetting => $"AzureWebJobs.{Name}.Disabled";
}

/// <summary>The app's functions as its own attributes declare them: the single list both hosts and the deployment use.</summary>
public static class FunctionCatalog
{
    private static readonly Lazy<IReadOnlyList<FunctionEntry>> AppFunctions = new(() => Of(typeof(FunctionCatalog).Assembly));

    public static IReadOnlyList<FunctionEntry> All => AppFunctions.Value;

    public static IReadOnlyList<FunctionEntry> Of(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Select(m => (Type: t, Method: m, Function: m.GetCustomAttribute<FunctionAttribute>())))
            .Where(x => x.Function is not null)
            .Select(x => new FunctionEntry(
                x.Function!.Name,
                x.Type.GetCustomAttribute<ZoneAttribute>()?.Zone ?? throw new InvalidOperationException($"{x.Type.FullName} has [Function] methods but no [Zone]."),
                x.Method))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// The <c>AzureWebJobs.&lt;Function&gt;.Disabled</c> app settings of a deployment that runs <paramref name="zones"/>:
    /// true for every function of another zone. The infrastructure sets them; the local host honours them too.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DisabledSettings(IReadOnlySet<FunctionZone> zones) =>
        All.Where(f => !zones.Contains(f.Zone)).ToDictionary(f => f.DisabledSetting, _ => "true", StringComparer.Ordinal);

    public static FunctionEntry? Find(string name) => All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
}
