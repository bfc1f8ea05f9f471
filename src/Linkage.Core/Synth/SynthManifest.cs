using System.Text.Encodings.Web;
using System.Text.Json;

namespace Linkage.Synth;

/// <summary>One generated file: its path under the output directory, what it is and what it holds.</summary>
public sealed class SynthFileRecord(string path, string kind)
{
    public string Path { get; } = path;

    public string Kind { get; } = kind;

    public long Rows { get; set; }

    /// <summary>Named counts in a fixed order (participants, withdrawals…), so the manifest is byte-stable.</summary>
    public List<KeyValuePair<string, long>> Counts { get; } = [];

    public SynthFileRecord Count(string name, long value)
    {
        Counts.Add(new(name, value));
        return this;
    }
}

/// <summary>What a synth run generated (written as manifest.json). Holds no timings, so it is deterministic too.</summary>
public sealed class SynthManifest(SynthOptions options, string file2KeySource)
{
    public const string FileName = "manifest.json";

    public SynthOptions Options { get; } = options;

    /// <summary>Where the File 2 person ids came from: the stand-in key or an NHS Output file.</summary>
    public string File2KeySource { get; } = file2KeySource;

    public List<SynthFileRecord> Files { get; } = [];

    public SynthFileRecord? Find(string path) => Files.Find(f => string.Equals(f.Path, path, StringComparison.Ordinal));

    public void WriteTo(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // readable quotes and '+'; the manifest is never embedded in HTML
        });
        json.WriteStartObject();
        json.WriteString("generator", "linkage synth");
        json.WriteNumber("seed", Options.Seed);
        json.WriteStartObject("options");
        json.WriteStartArray("studies");
        foreach (string study in Options.Studies)
        {
            json.WriteStringValue(study);
        }

        json.WriteEndArray();
        json.WriteString("s251Study", Options.S251StudyCode);
        json.WriteNumber("participants", Options.Participants);
        json.WriteNumber("quarters", Options.Quarters);
        json.WriteNumber("file2Rows", Options.File2Rows);
        json.WriteNumber("londonSdeRows", Options.LondonSdeRows);
        json.WriteNumber("missingNhsShare", Options.MissingNhsShare);
        json.WriteNumber("invalidNhsShare", Options.InvalidNhsShare);
        json.WriteNumber("crossStudyShare", Options.CrossStudyShare);
        json.WriteString("firstFileDate", Options.FirstFileDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndObject();
        json.WriteString("file2KeySource", File2KeySource);
        json.WriteStartArray("files");
        foreach (var file in Files)
        {
            json.WriteStartObject();
            json.WriteString("path", file.Path);
            json.WriteString("kind", file.Kind);
            json.WriteNumber("rows", file.Rows);
            foreach (var (name, value) in file.Counts)
            {
                json.WriteNumber(name, value);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
