namespace Linkage.Keys;

/// <summary>The purposes data keys are made for: one key (with versions) per purpose.</summary>
public static class KeyPurposes
{
    /// <summary>TTP: STUDY_ID → TTP-encrypted id (per-study subkeys, see <see cref="StudyIdTokenizer"/>).</summary>
    public const string TtpPerson = "ttp-person";

    /// <summary>Processor: TTP id → TRE id (a layer over the TTP token).</summary>
    public const string ProcessorId = "processor-id";

    /// <summary>TRE: LSOA and other small areas.</summary>
    public const string TreGeography = "tre-geography";

    public static string ProjectId(string projectId) => "project-id:" + CheckProject(projectId);

    public static string ProjectGeography(string projectId) => "project-geo:" + CheckProject(projectId);

    /// <summary>The versioned name recorded beside outputs, e.g. <c>processor-id/v3</c>.</summary>
    public static string VersionLabel(string purpose, int version) => $"{purpose}/v{version}";

    /// <summary>Reads a label written by <see cref="VersionLabel"/> back into purpose and version.</summary>
    public static bool TryParseVersionLabel(string label, out string purpose, out int version)
    {
        purpose = string.Empty;
        version = 0;
        var slash = label?.LastIndexOf("/v", StringComparison.Ordinal) ?? -1;
        if (slash <= 0 || !int.TryParse(label.AsSpan(slash + 2), System.Globalization.NumberStyles.None, null, out version) || version <= 0)
        {
            return false;
        }

        purpose = label![..slash];
        return true;
    }

    private static string CheckProject(string projectId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(projectId);
        if (projectId.AsSpan().IndexOfAny("/\\?#:") >= 0)
        {
            throw new ArgumentException("A project id must not contain '/', '\\', '?', '#' or ':'.", nameof(projectId));
        }

        return projectId;
    }
}
