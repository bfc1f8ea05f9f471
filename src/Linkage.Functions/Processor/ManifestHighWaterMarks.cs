using Linkage.Azure.Cosmos;
using Linkage.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Processor;

/// <summary>The newest manifest of one study the processor has had in force (document id = study).</summary>
public sealed record ManifestMarkDocument
{
    public required string Id { get; init; }

    public required string Study { get; init; }

    public required int Version { get; init; }

    public required int Revision { get; init; }

    /// <summary>The manifest's own commit time (signed by the TTP).</summary>
    public required DateTimeOffset CommittedAt { get; init; }

    /// <summary>When the processor first used it.</summary>
    public required DateTimeOffset FirstUsedAt { get; init; }
}

/// <summary>
/// The processor's memory of the newest (version, revision) of each study's manifest it has used (container
/// <c>tre-manifest-marks</c>, partition <c>/study</c>; TRE side only, out of reach of whoever writes the TTP's inbox).
/// A signature proves the TTP made a manifest, not that it is still in force: an older signed manifest put back would
/// restore permissions since withdrawn, so one older than the mark is refused (decision 0802).
/// </summary>
public sealed class ManifestHighWaterMarks(CosmosDatabase database, TimeProvider time)
{
    public const string ContainerId = "tre-manifest-marks";

    /// <summary>Every study's mark (one query: the marks are read on every load of the snapshots).</summary>
    public async Task<IReadOnlyDictionary<string, ManifestMarkDocument>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var marks = new Dictionary<string, ManifestMarkDocument>(StringComparer.Ordinal);
        using var it = container.GetItemQueryIterator<ManifestMarkDocument>(new QueryDefinition("SELECT * FROM c"));
        while (it.HasMoreResults)
        {
            foreach (var mark in await it.ReadNextAsync(cancellationToken))
            {
                marks[mark.Study] = mark;
            }
        }

        return marks;
    }

    /// <summary>Throws <see cref="ManifestRejectedException"/> when <paramref name="manifest"/> is older than the study's mark.</summary>
    public static void Check(StudyManifest manifest, ManifestMarkDocument? mark)
    {
        if (mark is not null && IsOlder(manifest, mark))
        {
            // What to do first: the delivery's held reason keeps only the message's first 300 characters.
            throw new ManifestRejectedException(
                $"Manifest of {manifest.Study} refused: v{manifest.Version} r{manifest.Revision} is older than v{mark.Version} r{mark.Revision}, in use since " +
                $"{mark.FirstUsedAt:yyyy-MM-dd HH:mm}Z (a replay would restore withdrawn permissions). Have the TTP republish its newest File 1 (decision 0802). " +
                $"Only if that is impossible, after finding out why, delete document '{manifest.Study}' in {ContainerId}.");
        }
    }

    /// <summary>
    /// Raises the study's mark to <paramref name="manifest"/> if it is newer (nothing to write otherwise). Optimistic: a
    /// concurrent raise is read again. False when another load raised it past this manifest meanwhile (the manifest
    /// changed while this load read it): the caller reads the manifests again, and a manifest still older then is refused.
    /// </summary>
    public async Task<bool> RaiseAsync(StudyManifest manifest, ManifestMarkDocument? known, CancellationToken cancellationToken)
    {
        if (known is not null && Order(manifest.Version, manifest.Revision) <= Order(known.Version, known.Revision))
        {
            return true;
        }

        var container = await ContainerAsync(cancellationToken);
        var superseded = false;
        await container.UpdateAsync<ManifestMarkDocument>(manifest.Study, new PartitionKey(manifest.Study), current =>
        {
            superseded = current is not null && IsOlder(manifest, current);
            return current is not null && Order(manifest.Version, manifest.Revision) <= Order(current.Version, current.Revision)
                ? null
                : new ManifestMarkDocument
                {
                    Id = manifest.Study, Study = manifest.Study, Version = manifest.Version, Revision = manifest.Revision, CommittedAt = manifest.CommittedAt, FirstUsedAt = time.GetUtcNow(),
                };
        }, cancellationToken);
        return !superseded;
    }

    private static bool IsOlder(StudyManifest manifest, ManifestMarkDocument mark) => Order(manifest.Version, manifest.Revision) < Order(mark.Version, mark.Revision);

    private static long Order(int version, int revision) => ((long)version << 32) | (uint)revision;

    private Task<Container> ContainerAsync(CancellationToken cancellationToken) => database.ContainerAsync(ContainerId, "/study", cancellationToken);
}
