using Azure;
using Azure.Storage.Blobs;
using Linkage.Functions.Hosting;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Deliveries;

/// <summary>The intake behind one inbox: what to run on a delivered blob version, and where its provider reads notes.</summary>
public interface IInboxHandler
{
    /// <summary>The inbox container.</summary>
    string Inbox { get; }

    /// <summary>The zone whose app runs this intake.</summary>
    FunctionZone Zone { get; }

    /// <summary>Processes one blob version; returns what became of it (Accepted, Rejected, Curated, AlreadyProcessed…).</summary>
    Task<string> ProcessAsync(BlobClient blob, ETag etag, CancellationToken cancellationToken);

    /// <summary>The provider's own area for a note about <paramref name="blobName"/>: container and blob name.</summary>
    (string Container, string Name) NoteFor(string blobName);

    /// <summary>
    /// Called once a delivery is held: withdraws whatever its attempts staged and never committed, so nothing of a file
    /// that will not be processed unattended lingers beside the committed outputs.
    /// </summary>
    Task WithdrawUncommittedAsync(string blobName, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The handlers of the zones this app runs, by inbox.</summary>
public sealed class InboxHandlers(IEnumerable<IInboxHandler> handlers, IOptions<ZoneOptions> zones)
{
    /// <summary>Where a note about a delivery to <paramref name="inbox"/> goes, whichever app holds it; null for an unknown inbox.</summary>
    public (string Container, string Name)? NoteFor(string inbox, string blobName) =>
        handlers.FirstOrDefault(h => h.Inbox == inbox)?.NoteFor(blobName);

    /// <summary>The handler of <paramref name="inbox"/> if this app runs its zone; otherwise null.</summary>
    public IInboxHandler? Find(string inbox) =>
        handlers.FirstOrDefault(h => h.Inbox == inbox && zones.Value.EnabledZones.Contains(h.Zone));

    /// <summary>The zone of the intake behind <paramref name="inbox"/>, or null for an unknown inbox.</summary>
    public FunctionZone? ZoneOf(string inbox) => handlers.FirstOrDefault(h => h.Inbox == inbox)?.Zone;

    public IInboxHandler Get(string inbox)
    {
        var handler = handlers.FirstOrDefault(h => h.Inbox == inbox)
            ?? throw new InvalidOperationException($"No intake handles the container '{inbox}'.");
        return zones.Value.EnabledZones.Contains(handler.Zone)
            ? handler
            : throw new UnauthorizedAccessException($"The intake of '{inbox}' belongs to zone {handler.Zone}, which this app does not run (Runtime:Zones = {zones.Value.Zones}).");
    }
}
