using System.Net;
using Linkage.Azure.Cosmos;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Ttp;

/// <summary>
/// The participant registry in Cosmos (container <c>ttp-registry</c>, partition <c>/study</c>): current permissions per
/// participant and the history of every change with the File 1 version and date. Participants are kept in 256 pages per
/// study (by the first byte of their token), so a 500k-participant study is 256 documents of ~2k participants, written in
/// 256 calls rather than 500k. A page remembers the files applied to it, so applying a file twice changes nothing.
/// Only tokens and flags are stored: the registry holds no identifier.
/// </summary>
public sealed class ParticipantRegistry(CosmosDatabase database)
{
    public const string ContainerId = "ttp-registry";

    /// <summary>A participant's current flags, and the File 1 version they joined with (changes are in the history).</summary>
    public sealed record Entry(int Flags, int Since);

    /// <summary>A change of a registered participant's permissions: the File 1 version and date it came with.</summary>
    public sealed record Change(string Token, int Version, DateOnly Date, int From, int To);

    public sealed record Page
    {
        public required string Id { get; init; }

        public required string Study { get; init; }

        public Dictionary<string, Entry> Participants { get; init; } = [];

        public List<Change> History { get; init; } = [];

        /// <summary>"v&lt;version&gt;:&lt;source ETag&gt;" of each file applied: a corrected file re-sent under the same version still applies.</summary>
        public List<string> AppliedFiles { get; init; } = [];

        /// <summary>How many participants each applied file changed on this page, so a re-run reports the same count.</summary>
        public Dictionary<string, long> ChangesByFile { get; init; } = [];

        /// <summary>The highest File 1 version applied to the page (from <see cref="AppliedFiles"/>).</summary>
        public int HighestVersion() => AppliedFiles.Select(f => int.TryParse(f.AsSpan(1, Math.Max(0, f.IndexOf(':') - 1)), out int v) ? v : 0).DefaultIfEmpty(0).Max();
    }

    /// <summary>
    /// Applies one committed File 1 (its participants' tokens and flags, read from the TTP's baseline snapshot) to the
    /// registry; returns the number of participants whose permissions changed. A participant of the study absent from
    /// this file is no longer active: the file is the study's whole current cohort.
    /// </summary>
    public async Task<long> ApplyAsync(string study, int version, string sourceETag, DateOnly date, IEnumerable<(TokenBytes Token, PermissionFlags Flags)> participants, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        var byPage = participants.GroupBy(p => (int)(p.Token.High >> 56)).ToDictionary(g => g.Key, g => g.ToList());
        long changed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 256), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (page, ct) =>
        {
            long n = await ApplyPageAsync(container, study, page, version, $"v{version}:{sourceETag}", date, byPage.GetValueOrDefault(page) ?? [], ct);
            Interlocked.Add(ref changed, n);
        });
        return changed;
    }

    public async Task<Page?> GetPageAsync(string study, int page, CancellationToken cancellationToken)
    {
        var container = await database.ContainerAsync(ContainerId, "/study", cancellationToken);
        try
        {
            return (await container.ReadItemAsync<Page>(PageId(study, page), new PartitionKey(study), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public static string PageId(string study, int page) => $"{study}-{page:x2}";


    private static async Task<long> ApplyPageAsync(Container container, string study, int pageNo, int version, string fileKey, DateOnly date, List<(TokenBytes Token, PermissionFlags Flags)> members, CancellationToken ct)
    {
        long changed = 0;
        await container.UpdateAsync<Page>(PageId(study, pageNo), new PartitionKey(study), page =>
        {
            changed = 0;
            if (page is null && members.Count == 0)
            {
                return null;
            }

            page ??= new Page { Id = PageId(study, pageNo), Study = study };
            if (page.AppliedFiles.Contains(fileKey))
            {
                changed = page.ChangesByFile.GetValueOrDefault(fileKey); // applied already (a re-run): report what that run changed
                return null;
            }

            if (page.HighestVersion() > version)
            {
                // A newer version is already here: an older file must never roll permissions back.
                return null;
            }

            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in members)
            {
                string token = p.Token.ToString();
                present.Add(token);
                int flags = (int)p.Flags;
                if (!page.Participants.TryGetValue(token, out var current))
                {
                    // Joining is recorded by Entry.Since; History holds changes only, which keeps pages small.
                    page.Participants[token] = new Entry(flags, version);
                    changed++;
                }
                else if (current.Flags != flags)
                {
                    page.Participants[token] = current with { Flags = flags };
                    page.History.Add(new Change(token, version, date, current.Flags, flags));
                    changed++;
                }
            }

            foreach (var (token, current) in page.Participants.ToList())
            {
                int inactive = current.Flags & ~(int)PermissionFlags.Active;
                if (!present.Contains(token) && current.Flags != inactive)
                {
                    // Left out of the study's latest file: not active until a later file lists them again.
                    page.Participants[token] = current with { Flags = inactive };
                    page.History.Add(new Change(token, version, date, current.Flags, inactive));
                    changed++;
                }
            }

            page.AppliedFiles.Add(fileKey);
            page.ChangesByFile[fileKey] = changed;
            return page;
        }, ct);
        return changed;
    }
}
