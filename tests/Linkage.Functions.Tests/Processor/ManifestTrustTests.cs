using System.Text.Json;
using Linkage.File1;
using Linkage.Functions.Processor;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Linkage.Permissions;
using Linkage.Ttp;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Processor;

/// <summary>
/// The processor reads permission snapshots only through the TTP's signed manifests: a snapshot no manifest names is
/// never used, and a manifest or snapshot changed by anyone without the TTP's key (the processor side can write its own
/// inbox) stops File 2 intake instead of curating under permissions nobody committed.
/// </summary>
public sealed class ManifestTrustTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private static string Header => string.Join(',', File1Schema.FieldNames);

    private static string File(string created, string nhsE, string status = "1") => string.Join('\n',
        Header,
        $"UKB0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,{created},{status},{nhsE},9,0,9,0,0,9,1,1,0,0,0,0,0,0,0") + "\n";

    [Fact]
    public async Task Only_what_a_valid_manifest_names_is_used_and_tampering_stops_intake()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var source = app.Services.GetRequiredService<PermissionSnapshotSource>();
        var blobs = stack.CreateBlobServiceClient();
        var v1 = await intake.DeliverAsync(blobs, "UKBB/UKBB_FILE1_v1_20250101.csv", File("01/01/2025", nhsE: "0"));
        Assert.Equal("Accepted", v1.Outcome);
        var inbox = blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox);
        string token = (await blobs.DownloadTextAsync(v1.Record.Outputs["idMapping"])).Split('\n')[1].Split(',')[0];

        // A snapshot planted under a higher version's name (participant active) is ignored: no manifest names it.
        var planted = TtpOutputFormats.SnapshotOf([], new PermissionSnapshotHeader("UKBB", 9, v1.Record.TokenKeyVersion!, DateTimeOffset.UtcNow));
        planted.Add(TokenBytes.Parse(token), PermissionFlags.Active | PermissionFlags.NhsE);
        var plantedName = TtpStorage.PermissionSnapshot("UKBB", 9, new DateOnly(2025, 9, 9));
        await using (var w = await inbox.GetBlobClient(plantedName).OpenWriteAsync(overwrite: true))
        {
            await planted.WriteAsync(w, CancellationToken.None);
        }

        var set = await source.LoadLatestAsync(CancellationToken.None);
        Assert.True(set.TryGetFlags(token.AsSpan(), out var flags));
        Assert.False(flags.HasFlag(PermissionFlags.NhsE), "the committed v1 says no NHS England linkage; the planted snapshot is not read");

        // Pointing the manifest at the planted file (payload edited, signature kept) fails verification.
        var manifestBlob = inbox.GetBlobClient(TtpProcessorContract.Manifest("UKBB"));
        string original = (await manifestBlob.DownloadContentAsync()).Value.Content.ToString();
        var signed = JsonSerializer.Deserialize<SignedManifest>(original)!;
        string payload = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(signed.Payload)).Replace("\"version\":1", "\"version\":9", StringComparison.Ordinal).Replace("_v1_20250101", "_v9_20250909", StringComparison.Ordinal);
        await manifestBlob.UploadAsync(BinaryData.FromString(JsonSerializer.Serialize(signed with { Payload = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(payload)) })), overwrite: true);
        var forged = await Assert.ThrowsAsync<ManifestRejectedException>(() => source.LoadLatestAsync(CancellationToken.None));
        Assert.Contains("valid TTP signature", forged.Message, StringComparison.Ordinal);

        // The genuine manifest back, but the snapshot it names replaced: its SHA-256 no longer matches.
        await manifestBlob.UploadAsync(BinaryData.FromString(original), overwrite: true);
        await using (var w = await inbox.GetBlobClient(TtpStorage.PermissionSnapshot("UKBB", 1, new DateOnly(2025, 1, 1))).OpenWriteAsync(overwrite: true))
        {
            var swapped = TtpOutputFormats.SnapshotOf([], new PermissionSnapshotHeader("UKBB", 1, v1.Record.TokenKeyVersion!, DateTimeOffset.UtcNow));
            swapped.Add(TokenBytes.Parse(token), PermissionFlags.Active | PermissionFlags.NhsE);
            await swapped.WriteAsync(w, CancellationToken.None);
        }

        var replaced = await Assert.ThrowsAsync<ManifestRejectedException>(() => source.LoadLatestAsync(CancellationToken.None));
        Assert.Contains("SHA-256", replaced.Message, StringComparison.Ordinal);

        // UKBB out of the way for the class's other tests, which load every study's manifest.
        await manifestBlob.DeleteAsync();
    }

    [Fact]
    public async Task An_older_signed_manifest_put_back_is_refused_once_a_newer_one_was_used()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var intake = app.Services.GetRequiredService<File1IntakeService>();
        var source = app.Services.GetRequiredService<PermissionSnapshotSource>();
        var blobs = stack.CreateBlobServiceClient();
        var manifestBlob = blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).GetBlobClient(TtpProcessorContract.Manifest("TEDS"));
        string File(string status) => ManifestTrustTests.File("01/01/2025", nhsE: "1", status).Replace("UKB0001", "TED0001", StringComparison.Ordinal);

        var v1 = await intake.DeliverAsync(blobs, "TEDS/TEDS_FILE1_v1_20250101.csv", File(status: "1"));
        Assert.Equal("Accepted", v1.Outcome);
        string token = (await blobs.DownloadTextAsync(v1.Record.Outputs["idMapping"])).Split('\n')[1].Split(',')[0];
        Assert.True((await source.LoadLatestAsync(CancellationToken.None)).TryGetFlags(token.AsSpan(), out var before) && before.HasFlag(PermissionFlags.Active));
        string v1Manifest = (await manifestBlob.DownloadContentAsync()).Value.Content.ToString();

        // The participant withdraws in v2, and the processor uses v2.
        var v2 = await intake.DeliverAsync(blobs, "TEDS/TEDS_FILE1_v2_20250401.csv", File(status: "0"));
        Assert.Equal("Accepted", v2.Outcome);
        Assert.False((await source.LoadLatestAsync(CancellationToken.None)).TryGetFlags(token.AsSpan(), out var after) && after.HasFlag(PermissionFlags.Active));
        string v2Manifest = (await manifestBlob.DownloadContentAsync()).Value.Content.ToString();

        // v1's manifest put back: genuinely signed, its snapshot intact, but it would make the withdrawn person active again.
        await manifestBlob.UploadAsync(BinaryData.FromString(v1Manifest), overwrite: true);
        var replayed = await Assert.ThrowsAsync<ManifestRejectedException>(() => source.LoadLatestAsync(CancellationToken.None));
        Assert.StartsWith("Manifest of TEDS refused: v1 r0 is older than v2 r0", replayed.Message, StringComparison.Ordinal);
        Assert.Contains("republish", replayed.Message[..Math.Min(300, replayed.Message.Length)], StringComparison.Ordinal); // what to do survives the held reason's cut
        Assert.DoesNotContain(token, replayed.Message, StringComparison.Ordinal);
        var e = await Assert.ThrowsAsync<ManifestRejectedException>(() => source.LoadLatestSnapshotsAsync(CancellationToken.None));
        Assert.Equal(replayed.Message, e.Message);

        // A fresh process (the mark is in Cosmos, not in memory) refuses it too; the newest manifest back lets intake go on.
        await using (var restarted = new FunctionAppFactory(stack.Stack, "ServicesOnly"))
        {
            var refused = await Assert.ThrowsAsync<ManifestRejectedException>(() => restarted.Services.GetRequiredService<PermissionSnapshotSource>().LoadLatestAsync(CancellationToken.None));
            Assert.Equal(replayed.Message, refused.Message);
        }

        await manifestBlob.UploadAsync(BinaryData.FromString(v2Manifest), overwrite: true);
        Assert.False((await source.LoadLatestAsync(CancellationToken.None)).TryGetFlags(token.AsSpan(), out var again) && again.HasFlag(PermissionFlags.Active));
        var mark = (await app.Services.GetRequiredService<ManifestHighWaterMarks>().ReadAllAsync(CancellationToken.None))["TEDS"];
        Assert.Equal((2, 0), (mark.Version, mark.Revision));
    }

    [Fact]
    public async Task Outside_development_the_processor_needs_the_ttp_public_key_in_its_settings()
    {
        var blobs = stack.CreateBlobServiceClient();
        await blobs.PutTextAsync(TtpStorage.ProcessorInbox, TtpProcessorContract.Manifest("ZZTEST"), "{}");
        await blobs.PutTextAsync(TtpStorage.ProcessorInbox, TtpProcessorContract.SigningKeyBlob, "not to be trusted outside Development");
        var staging = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Staging" };
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        var source = new PermissionSnapshotSource(blobs, Microsoft.Extensions.Options.Options.Create(new TtpManifestOptions()), staging, app.Services.GetRequiredService<ManifestHighWaterMarks>());
        try
        {
            var e = await Assert.ThrowsAsync<ManifestKeyMissingException>(() => source.LoadLatestAsync(CancellationToken.None));
            Assert.Contains("TtpManifest:PublicKey", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            await blobs.GetBlobContainerClient(TtpStorage.ProcessorInbox).GetBlobClient(TtpProcessorContract.Manifest("ZZTEST")).DeleteIfExistsAsync();
        }
    }
}
