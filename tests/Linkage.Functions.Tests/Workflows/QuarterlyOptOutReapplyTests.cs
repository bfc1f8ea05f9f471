using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Linkage.File1;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Functions.Workflows.Quarterly;
using Linkage.Permissions;
using Linkage.Synth;
using Linkage.Ttp;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Workflows;

/// <summary>
/// A newer national opt-out list takes effect at the next cycle, not only at a study's next File 1 (decision 0801): the
/// cycle re-reads the s251 study's archived File 1 with the new list and commits a revision — the processor's snapshot,
/// the NHS Output and a delta of just the opt-out changes for NHS England — which a re-run does not repeat and the
/// study's next File 1 does not send again.
/// </summary>
public sealed class QuarterlyOptOutReapplyTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>, IDisposable
{
    private readonly string _synthDir = Directory.CreateTempSubdirectory("linkage-quarter-reapply-").FullName;

    public void Dispose() => Directory.Delete(_synthDir, recursive: true);

    [Fact]
    public async Task A_newer_list_is_reapplied_by_the_next_cycle_as_a_revision_sent_once_and_not_repeated_by_the_next_file()
    {
        var options = new SynthOptions { Seed = 11, Participants = 200, File2Rows = 10, Quarters = 1, InvalidNhsShare = 0 };
        new SynthGenerator(options).Generate(_synthDir, null, CancellationToken.None);
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: new Dictionary<string, string?>
        {
            ["Workflows:Quarterly:ActiveStudies"] = string.Join(',', options.Studies.Take(2).Append(options.S251StudyCode).Distinct()),
            ["Workflows:Quarterly:DeadlineDays"] = "0", // no wait: the studies' files are in before each cycle starts
            ["Workflows:Quarterly:RecheckEvery"] = "00:00:05",
        });
        var (http, op) = QuarterlyOptOutTests.Clients(app);
        var blobs = stack.CreateBlobServiceClient();
        var versions = app.Services.GetRequiredService<File1VersionStore>();
        string s251 = options.S251StudyCode;
        string other = options.Studies.First(s => s != s251);
        string file1 = Directory.GetFiles(Path.Combine(_synthDir, "file1", s251), $"{s251}_FILE1_v1_*.csv").Single();
        string listPath = Path.Combine(_synthDir, "optout", "national_opt_out.csv");

        // Last quarter: both studies' File 1s, made with the first list, delivered to NHS England.
        await blobs.UploadFileAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, listPath);
        foreach (var study in new[] { s251, other })
        {
            string file = Directory.GetFiles(Path.Combine(_synthDir, "file1", study), $"{study}_FILE1_v1_*.csv").Single();
            await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{study}/{Path.GetFileName(file)}", file);
            await Wait.ForAsync(async () => await versions.GetAsync(study, File1VersionStore.IdFor(study, 1), CancellationToken.None) is { State: File1VersionState.Accepted } r ? r : null, logs: app.Logs);
        }

        var first = await versions.GetAsync(s251, File1VersionStore.IdFor(s251, 1), CancellationToken.None);
        Assert.Equal((await ListAsync(File.ReadAllBytes(listPath))).Fingerprint, first!.OptOutList);
        var (lastYear, lastQuarter) = QuarterlyOptOutTests.LastQuarter();
        var lastReport = (await QuarterlyOptOutTests.CompletedAsync(http, await QuarterlyOptOutTests.StartAsync(http, op, lastYear, lastQuarter), op, app)).GetProperty("output");
        Assert.Equal("AlreadyCurrent", Reapplied(lastReport)[s251].GetProperty("Outcome").GetString());
        Assert.Equal("NoS251Participants", Reapplied(lastReport)[other].GetProperty("Outcome").GetString());

        // A new list: two people of the s251 study (with NHS England linkage) opt out, one who had opted out opts back in.
        var oldList = File.ReadAllLines(listPath).Skip(1).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal);
        var people = await PeopleAsync(file1);
        var optingOut = people.Where(p => p.Eligible && !p.NhsNumbers.Overlaps(oldList)).Take(2).ToList();
        var optingIn = people.First(p => p.Eligible && p.NhsNumbers.Overlaps(oldList));
        Assert.Equal(2, optingOut.Count);
        var newList = oldList.Except(optingIn.NhsNumbers).Concat(optingOut.Select(p => p.NhsNumbers.First())).Order(StringComparer.Ordinal).ToList();
        byte[] newListBytes = Encoding.ASCII.GetBytes("NHS_NUMBER\n" + string.Join('\n', newList) + "\n");
        await blobs.GetBlobContainerClient(TtpStorage.Config).GetBlobClient(TtpStorage.NationalOptOutBlob).UploadAsync(BinaryData.FromBytes(newListBytes), overwrite: true);

        // This quarter: no new File 1 from anyone, yet the cycle re-applies the list.
        var (year, quarter) = QuarterlyOptOutTests.ThisQuarter();
        string location = await QuarterlyOptOutTests.StartAsync(http, op, year, quarter);
        var report = (await QuarterlyOptOutTests.CompletedAsync(http, location, op, app)).GetProperty("output");
        var s251Reapplied = Reapplied(report)[s251];
        Assert.Equal("Revised", s251Reapplied.GetProperty("Outcome").GetString());
        Assert.Equal(1, s251Reapplied.GetProperty("Revision").GetInt32());
        Assert.Equal(2, s251Reapplied.GetProperty("OptOutsStarted").GetInt64());
        Assert.Equal(1, s251Reapplied.GetProperty("OptOutsLifted").GetInt64());
        Assert.Equal("NoS251Participants", Reapplied(report)[other].GetProperty("Outcome").GetString());
        Assert.Equal("NotDelivered", QuarterlyOptOutTests.Studies(report)[s251].GetProperty("State").GetString());

        // NHS England gets exactly the three opt-out changes and the study's new NHS Output, which names the person who
        // opted back in and neither of those who opted out (before, the other way round).
        var delta = await QuarterlyOptOutTests.AssertDeliveryAsync(blobs, report, $"{year}-Q{quarter}", [s251]);
        Assert.Equal(3, delta.Count);
        Assert.All(delta, row => Assert.Equal(("national_opt_out_applies", s251, "1"), (row[2], row[5], row[6])));
        Assert.Equal(2, delta.Count(r => r[1] == "permission-on"));
        Assert.Equal(1, delta.Count(r => r[1] == "permission-off"));
        var revised = (await versions.GetAsync(s251, File1VersionStore.IdFor(s251, 1), CancellationToken.None))!;
        Assert.Equal(1, revised.Revision);
        Assert.Equal(File1VersionState.Accepted, revised.State);
        Assert.Equal(3, revised.Counts["registryChanges"]);
        string before = await TextAsync(blobs, first.Files[File1OutputWriter.Keys.NhsOutput].Name);
        string after = await TextAsync(blobs, revised.Files[File1OutputWriter.Keys.NhsOutput].Name);
        Assert.EndsWith("_r1.csv", revised.Files[File1OutputWriter.Keys.NhsOutput].Name, StringComparison.Ordinal);
        Assert.All(optingOut, p => Assert.True(p.NhsNumbers.All(n => before.Contains(n, StringComparison.Ordinal) && !after.Contains(n, StringComparison.Ordinal))));
        Assert.True(optingIn.NhsNumbers.All(n => !before.Contains(n, StringComparison.Ordinal) && after.Contains(n, StringComparison.Ordinal)));
        Assert.True(await blobs.GetBlobContainerClient(TtpStorage.NhseOutbox).GetBlobClient(File1OutputWriter.BlobName(first.Files[File1OutputWriter.Keys.NhsOutput].Name)).ExistsAsync()); // what was delivered stays

        // The processor verifies the signed manifest of revision 1 and reads its snapshot: three people's national opt-out
        // flags differ from revision 0's, and nothing else does.
        var source = app.Services.GetRequiredService<PermissionSnapshotSource>();
        var manifest = (await source.GetManifestAsync(s251, CancellationToken.None))!;
        Assert.Equal((1, 1), (manifest.Version, manifest.Revision));
        var now = (await source.LoadLatestSnapshotsAsync(CancellationToken.None)).Single(s => s.Header.StudyCode == s251).Entries().ToDictionary(e => e.Token, e => e.Flags);
        var then = (await SnapshotAsync(blobs, first.Files[File1OutputWriter.Keys.PermissionSnapshot].Name)).Entries().ToDictionary(e => e.Token, e => e.Flags);
        Assert.Equal(then.Keys.Order(), now.Keys.Order());
        var changed = then.Where(e => now[e.Key] != e.Value).ToList();
        Assert.Equal(3, changed.Count);
        Assert.All(changed, e => Assert.Equal(PermissionFlags.NationalOptOutApplies, now[e.Key] ^ e.Value));

        // Idempotent: re-applying the same list again changes nothing and reports the same revision.
        var again = await app.Services.GetRequiredService<OptOutReapplier>().ReapplyAsync(s251, $"{year}-Q{quarter}", CancellationToken.None);
        Assert.Equal((OptOutReapplyOutcome.Revised, 1, 2L, 1L), (again.Outcome, again.Revision, again.OptOutsStarted, again.OptOutsLifted));
        Assert.Equal(1, (await versions.GetAsync(s251, File1VersionStore.IdFor(s251, 1), CancellationToken.None))!.Revision);

        // The study's next File 1 (the same people, made with the new list) is measured against revision 1: it repeats no opt-out change.
        string v2 = Path.GetFileName(file1).Replace("_v1_", "_v2_", StringComparison.Ordinal);
        await blobs.UploadFileAsync(TtpStorage.File1Inbox, $"{s251}/{v2}", file1);
        var next = await Wait.ForAsync(async () => await versions.GetAsync(s251, File1VersionStore.IdFor(s251, 2), CancellationToken.None) is { State: File1VersionState.Accepted } r ? r : null, logs: app.Logs);
        Assert.Equal(0, next.Counts["nationalOptOutExclusions"]);
        Assert.Equal(0, next.Counts["nationalOptOutLifted"]);
        Assert.Equal(0, next.Counts["deltaRows"]);
        Assert.Equal(revised.OptOutList, next.OptOutList);

        // Counts and study codes only: no NHS number of anyone whose opt-out changed is in the report.
        string raw = report.GetRawText();
        Assert.All(optingOut.Append(optingIn).SelectMany(p => p.NhsNumbers), n => Assert.DoesNotContain(n, raw, StringComparison.Ordinal));
    }

    private sealed record Person(string StudyId, HashSet<string> NhsNumbers, bool Eligible);

    /// <summary>Each participant's NHS numbers (every row) and whether their current row is active, with NHS England linkage and an s251 basis.</summary>
    private static async Task<List<Person>> PeopleAsync(string file1)
    {
        var byId = new Dictionary<string, Person>(StringComparer.Ordinal);
        await using var stream = File.OpenRead(file1);
        using var reader = new File1Reader(stream);
        while (await reader.ReadAsync(CancellationToken.None))
        {
            var row = reader.Current;
            string id = row[File1Schema.StudyId].ToString();
            string nhs = row[File1Schema.NhsNumber].ToString();
            if (!byId.TryGetValue(id, out var p))
            {
                byId[id] = p = new Person(id, new HashSet<string>(StringComparer.Ordinal), false);
            }

            if (NhsNumber.IsValid(nhs))
            {
                p.NhsNumbers.Add(nhs);
            }

            if (row[File1Schema.RowStatus] is "C")
            {
                byId[id] = p with { Eligible = row[File1Schema.UkllcStatus] is "1" && row[File1Schema.NhsELinkagePermission] is "1" && row[File1Schema.NationalOptOut] is "1" && NhsNumber.IsValid(nhs) };
            }
        }

        // One NHS number each, so that the list's change is the person's alone.
        return byId.Values.Where(p => p.NhsNumbers.Count == 1).OrderBy(p => p.StudyId, StringComparer.Ordinal).ToList();
    }

    private static Dictionary<string, JsonElement> Reapplied(JsonElement report) =>
        report.GetProperty("OptOutReapplied").EnumerateArray().ToDictionary(s => s.GetProperty("Study").GetString()!);

    private static async Task<NationalOptOutList> ListAsync(byte[] content) => await NationalOptOutList.ReadAsync(new MemoryStream(content), CancellationToken.None);

    private static async Task<string> TextAsync(BlobServiceClient blobs, string path) =>
        (await blobs.GetBlobContainerClient(path.Split('/', 2)[0]).GetBlobClient(File1OutputWriter.BlobName(path)).DownloadContentAsync()).Value.Content.ToString();

    private static async Task<PermissionSnapshot> SnapshotAsync(BlobServiceClient blobs, string path)
    {
        await using var s = await blobs.GetBlobContainerClient(path.Split('/', 2)[0]).GetBlobClient(File1OutputWriter.BlobName(path)).OpenReadAsync();
        return await PermissionSnapshot.ReadAsync(s, CancellationToken.None);
    }
}
