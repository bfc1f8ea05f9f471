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

    private static string File(string created, string nhsE) => string.Join('\n',
        Header,
        $"UKB0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,{created},1,{nhsE},9,0,9,0,0,9,1,1,0,0,0,0,0,0,0") + "\n";

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
    }

    [Fact]
    public async Task Outside_development_the_processor_needs_the_ttp_public_key_in_its_settings()
    {
        var blobs = stack.CreateBlobServiceClient();
        await blobs.PutTextAsync(TtpStorage.ProcessorInbox, TtpProcessorContract.Manifest("ZZTEST"), "{}");
        await blobs.PutTextAsync(TtpStorage.ProcessorInbox, TtpProcessorContract.SigningKeyBlob, "not to be trusted outside Development");
        var staging = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Staging" };
        var source = new PermissionSnapshotSource(blobs, Microsoft.Extensions.Options.Options.Create(new TtpManifestOptions()), staging);
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
