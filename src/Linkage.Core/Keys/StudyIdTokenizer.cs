namespace Linkage.Keys;

// CONTRACT STUB — owned by the keys work (issue 3), which replaces the bodies. Used by synth and File 1 intake.
/// <summary>
/// The trusted third party's person-id tokens: STUDY_ID → 22-char TTP-encrypted id, under a per-study subkey of the
/// TTP person-id key so that the same STUDY_ID in two studies gives unlinkable tokens.
/// </summary>
public sealed class StudyIdTokenizer : IDisposable
{
    public StudyIdTokenizer(ReadOnlySpan<byte> ttpPersonKey, string keyVersion)
    {
        _ = ttpPersonKey;
        KeyVersion = keyVersion;
    }

    public string KeyVersion { get; }

    public string Tokenize(string studyCode, ReadOnlySpan<char> studyId) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
