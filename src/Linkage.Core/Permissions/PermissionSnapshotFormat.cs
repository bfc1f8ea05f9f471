namespace Linkage.Permissions;

/// <summary>Constants of the binary permission snapshot format (docs/formats/permission-snapshot.md).</summary>
internal static class PermissionSnapshotFormat
{
    public static ReadOnlySpan<byte> Magic => "LLCPSNAP"u8;

    public const ushort Version = 1;
    public const int EntryBytes = 18;
    public const int ChecksumBytes = 32;
    public const int MaxTextBytes = 255;
}
