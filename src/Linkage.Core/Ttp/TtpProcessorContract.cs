using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Linkage.Ttp;

/// <summary>
/// The one home of what the TTP hands the processor in <c>processor-from-ttp</c>: the file names, and the per-study
/// manifest that says which of them are in force (docs/formats/ttp-outputs.md). Both zones use this class; the TTP writes
/// and signs, the processor verifies and reads only what a manifest names.
/// </summary>
public static class TtpProcessorContract
{
    public const string Container = "processor-from-ttp";

    /// <summary><c>&lt;STUDY&gt;_&lt;KIND&gt;_v&lt;N&gt;_&lt;YYYYMMDD&gt;</c>, the File 1's own naming with its kind replaced.</summary>
    public static string Stem(string study, string kind, int version, DateOnly date) =>
        string.Create(CultureInfo.InvariantCulture, $"{study}_{kind}_v{version}_{date:yyyyMMdd}");

    /// <summary>A File 1's ID mapping file; revision <c>r</c> &gt; 0 as for <see cref="PermissionSnapshot"/>.</summary>
    public static string IdMapping(string study, int version, DateOnly date, int revision = 0) =>
        $"id-mapping/{study}/{Stem(study, "IDMAP", version, date)}{RevisionSuffix(revision)}.csv";

    /// <summary>
    /// A File 1's permission snapshot; revision <c>r</c> &gt; 0 is the same version made again by the TTP, with a newer
    /// national opt-out list or from a corrected file re-sent under the same name (decision 0801), named
    /// <c>…_r&lt;r&gt;</c> beside the original.
    /// </summary>
    public static string PermissionSnapshot(string study, int version, DateOnly date, int revision = 0) =>
        $"permissions/{study}/{Stem(study, "PERMS", version, date)}{RevisionSuffix(revision)}.snapshot";

    /// <summary><c>""</c> for a File 1 as first accepted, <c>_r&lt;n&gt;</c> for its n-th revision.</summary>
    public static string RevisionSuffix(int revision) => revision > 0 ? string.Create(CultureInfo.InvariantCulture, $"_r{revision}") : "";

    /// <summary>The study's manifest: the only way the processor finds the study's snapshot and ID mapping file.</summary>
    public static string Manifest(string study) => $"manifests/{study}.manifest.json";

    public const string ManifestPrefix = "manifests/";

    /// <summary>The TTP's public key for manifests (SubjectPublicKeyInfo, PEM), published for operators to pin in the processor's settings.</summary>
    public const string SigningKeyBlob = "manifests/ttp-manifest-signing-key.pem";
}

/// <summary>One file a manifest names: where it is, its length and SHA-256 (lower-case hex).</summary>
public sealed record ManifestFile(string Name, long Length, string Sha256);

/// <summary>What the TTP has committed for a study: the File 1 version in force and the files made from it.</summary>
public sealed record StudyManifest
{
    public required string Study { get; init; }

    public required int Version { get; init; }

    public required DateOnly FileDate { get; init; }

    public required string SourceETag { get; init; }

    public required string TokenKeyVersion { get; init; }

    public required DateTimeOffset CommittedAt { get; init; }

    public required ManifestFile PermissionSnapshot { get; init; }

    public required ManifestFile IdMapping { get; init; }

    /// <summary>0 for the File 1 as delivered; n when the TTP re-applied a newer national opt-out list to it for the n-th time (a new snapshot, the same ID mapping file).</summary>
    public int Revision { get; init; }
}

/// <summary>A manifest and its signature as stored: the exact signed bytes travel base64-encoded, so nothing is re-serialised before verifying.</summary>
public sealed record SignedManifest(
    [property: JsonPropertyName("payload")] string Payload,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("keyId")] string KeyId);

/// <summary>A manifest whose signature, study or content does not hold: the processor uses none of that study's files.</summary>
public sealed class ManifestRejectedException(string message) : Exception(message);

/// <summary>
/// Signs manifests with ECDSA P-256 under a private key the TTP derives from its own data key (purpose
/// <c>ttp-manifest</c>). A signature rather than an HMAC: the processor verifies with the public key alone, so a
/// TRE-side identity that can write <c>processor-from-ttp</c> still cannot make a manifest the processor accepts.
/// </summary>
public sealed class ManifestSigner : IDisposable
{
    public const string KeyPurpose = "ttp-manifest";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ECDsa _key;

    /// <param name="keyMaterial">32 bytes of the TTP's data key; the P-256 scalar is derived from it with HKDF.</param>
    /// <param name="keyId">The data key's version label (e.g. <c>ttp-manifest/v1</c>).</param>
    public ManifestSigner(ReadOnlySpan<byte> keyMaterial, string keyId)
    {
        Span<byte> d = stackalloc byte[32];
        for (byte counter = 0; ; counter++)
        {
            // A scalar must be in [1, n-1]; HKDF output is out of range with probability ~2^-32, so a counter retries.
            HKDF.DeriveKey(HashAlgorithmName.SHA256, keyMaterial, d, salt: [counter], info: "linkage ttp manifest p256"u8);
            try
            {
                _key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d.ToArray() });
                break;
            }
            catch (CryptographicException) when (counter < 8)
            {
            }
            finally
            {
                CryptographicOperations.ZeroMemory(d);
            }
        }

        KeyId = keyId;
    }

    public string KeyId { get; }

    /// <summary>The public key as PEM (SubjectPublicKeyInfo), for the processor's <c>TtpManifest:PublicKey</c> setting.</summary>
    public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

    public SignedManifest Sign(StudyManifest manifest)
    {
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);
        byte[] signature = _key.SignData(payload, HashAlgorithmName.SHA256);
        return new SignedManifest(Convert.ToBase64String(payload), Convert.ToBase64String(signature), KeyId);
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>Verifies the TTP's manifests with its public key (the processor's side of <see cref="ManifestSigner"/>).</summary>
public sealed class ManifestVerifier : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ECDsa _key = ECDsa.Create();

    /// <param name="publicKeyPem">The TTP's public key, PEM SubjectPublicKeyInfo.</param>
    public ManifestVerifier(string publicKeyPem) => _key.ImportFromPem(publicKeyPem);

    /// <summary>The manifest, if the signature holds and it is about <paramref name="expectedStudy"/>; otherwise throws <see cref="ManifestRejectedException"/>.</summary>
    public StudyManifest Verify(SignedManifest signed, string expectedStudy)
    {
        byte[] payload, signature;
        try
        {
            payload = Convert.FromBase64String(signed.Payload);
            signature = Convert.FromBase64String(signed.Signature);
        }
        catch (FormatException)
        {
            throw new ManifestRejectedException($"The manifest of {expectedStudy} is not in the signed-manifest format.");
        }

        if (!_key.VerifyData(payload, signature, HashAlgorithmName.SHA256))
        {
            throw new ManifestRejectedException($"The manifest of {expectedStudy} does not carry a valid TTP signature (key {signed.KeyId}); none of its files are used.");
        }

        var manifest = JsonSerializer.Deserialize<StudyManifest>(payload, Json)
            ?? throw new ManifestRejectedException($"The manifest of {expectedStudy} is empty.");
        if (manifest.Study != expectedStudy
            || manifest.Revision < 0
            || manifest.PermissionSnapshot.Name != TtpProcessorContract.PermissionSnapshot(manifest.Study, manifest.Version, manifest.FileDate, manifest.Revision)
            || manifest.IdMapping.Name != TtpProcessorContract.IdMapping(manifest.Study, manifest.Version, manifest.FileDate, manifest.Revision))
        {
            throw new ManifestRejectedException($"The manifest stored for {expectedStudy} names another study's or another version's files; none of its files are used.");
        }

        return manifest;
    }

    public void Dispose() => _key.Dispose();
}
