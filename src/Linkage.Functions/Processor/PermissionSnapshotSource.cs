using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Ttp;
using Linkage.Permissions;

namespace Linkage.Functions.Processor;

/// <summary>
/// The latest permission snapshot of every study, as the TTP wrote them to the processor's inbox
/// (<c>permissions/&lt;STUDY&gt;/&lt;STUDY&gt;_PERMS_v&lt;N&gt;_&lt;date&gt;.snapshot</c>), merged into one lookup.
/// File 2 intake reads this once per file instead of asking the registry per row.
/// </summary>
public sealed partial class PermissionSnapshotSource(BlobServiceClient blobs)
{
    public async Task<PermissionSnapshotSet> LoadLatestAsync(CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox);
        var latest = new Dictionary<string, (int Version, string Name)>(StringComparer.Ordinal);
        if (await container.ExistsAsync(cancellationToken))
        {
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "permissions/", cancellationToken))
            {
                var m = SnapshotName().Match(item.Name);
                if (!m.Success)
                {
                    continue;
                }

                string study = m.Groups["study"].Value;
                int version = int.Parse(m.Groups["version"].Value, CultureInfo.InvariantCulture);
                if (!latest.TryGetValue(study, out var current) || current.Version < version)
                {
                    latest[study] = (version, item.Name);
                }
            }
        }

        var snapshots = new List<PermissionSnapshot>();
        foreach (var (_, (_, name)) in latest.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            await using var s = await container.GetBlobClient(name).OpenReadAsync(cancellationToken: cancellationToken);
            snapshots.Add(await PermissionSnapshot.ReadAsync(s, cancellationToken));
        }

        return PermissionSnapshotSet.Merge(snapshots);
    }

    [GeneratedRegex(@"^permissions/(?<study>[A-Z0-9_]+)/\k<study>_PERMS_v(?<version>\d+)_\d{8}\.snapshot$", RegexOptions.CultureInvariant)]
    private static partial Regex SnapshotName();
}
