namespace Linkage.Permissions;

/// <summary>One study's permission snapshot in memory: tokens sorted ascending, with their flags (18 bytes each).</summary>
public sealed class PermissionSnapshot
{
    internal PermissionSnapshot(PermissionSnapshotHeader header, ulong[] high, ulong[] low, ushort[] flags)
    {
        Header = header;
        High = high;
        Low = low;
        Flags = flags;
    }

    public PermissionSnapshotHeader Header { get; }

    public int Count => High.Length;

    internal ulong[] High { get; }

    internal ulong[] Low { get; }

    internal ushort[] Flags { get; }

    /// <summary>The entries in token order (used to compare two versions of a study's permissions).</summary>
    public IEnumerable<(TokenBytes Token, PermissionFlags Flags)> Entries()
    {
        for (int i = 0; i < High.Length; i++)
        {
            yield return (new TokenBytes(High[i], Low[i]), (PermissionFlags)Flags[i]);
        }
    }

    /// <summary>Reads and verifies a snapshot (magic, version, order, count, SHA-256) from a stream, in chunks.</summary>
    public static Task<PermissionSnapshot> ReadAsync(Stream source, CancellationToken cancellationToken) =>
        PermissionSnapshotReader.ReadAsync(source, cancellationToken);
}
