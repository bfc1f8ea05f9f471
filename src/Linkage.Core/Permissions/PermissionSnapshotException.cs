namespace Linkage.Permissions;

/// <summary>A permission snapshot is malformed, corrupt (checksum) or built wrongly. Messages never carry tokens.</summary>
public sealed class PermissionSnapshotException(string message) : Exception(message);
