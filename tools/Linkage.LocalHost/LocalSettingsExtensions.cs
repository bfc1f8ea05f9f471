using System.Text.Json;

namespace Linkage.LocalHost;

public static class LocalSettingsExtensions
{
    /// <summary>
    /// Adds the <c>Values</c> section of <c>local.settings.json</c> (the Functions convention; git-ignored) as configuration,
    /// with <c>__</c> meaning a section separator, below environment variables so the environment always wins.
    /// Keys starting with <c>//</c> (descriptions, see local.settings.sample.json) and empty values are skipped.
    /// </summary>
    public static IHostApplicationBuilder AddLocalSettings(this IHostApplicationBuilder builder, string fileName = "local.settings.json")
    {
        string? path = new[] { Path.Combine(Directory.GetCurrentDirectory(), fileName), Path.Combine(builder.Environment.ContentRootPath, fileName), Path.Combine(AppContext.BaseDirectory, fileName) }
            .FirstOrDefault(File.Exists);
        if (path is null)
        {
            return builder;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!doc.RootElement.TryGetProperty("Values", out var values))
        {
            return builder;
        }

        var settings = values.EnumerateObject()
            .Where(p => p.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
            .Where(p => !p.Name.StartsWith("//", StringComparison.Ordinal) && p.Value.ToString().Length > 0) // descriptions and unset values
            .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.ToString());

        // Insert before the environment-variable source so that the environment overrides the file.
        var sources = builder.Configuration.Sources;
        int envIndex = sources.Select((s, i) => (s, i)).Where(x => x.s is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource).Select(x => x.i).DefaultIfEmpty(sources.Count).First();
        sources.Insert(envIndex, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = settings });
        builder.Configuration.GetReloadToken();
        return builder;
    }
}
