using System.Text.Json;

namespace Linkage.DevStack;

/// <summary>
/// What <c>Linkage.DevStack up</c> writes to <c>.devstack/stack.json</c> while it runs (deleted on exit), so tests
/// and other tools can attach to the running stack instead of starting their own.
/// </summary>
public sealed record StackFile(
    int BlobPort,
    int QueuePort,
    int TablePort,
    int CosmosPort,
    int OwnerProcessId,
    int AzuriteProcessId,
    int CosmosProcessId,
    string DataDirectory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<StackFile?> TryReadAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<StackFile>(stream, Json, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    public async Task WriteAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        await using (var stream = File.Create(temp))
        {
            await JsonSerializer.SerializeAsync(stream, this, Json, ct);
        }

        File.Move(temp, path, overwrite: true);
    }
}
