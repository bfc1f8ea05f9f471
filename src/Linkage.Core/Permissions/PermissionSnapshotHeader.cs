namespace Linkage.Permissions;

/// <summary>What a permission snapshot describes: one study's File 1 version, with tokens under one TTP key version.</summary>
public sealed record PermissionSnapshotHeader(string StudyCode, int File1Version, string TokenKeyVersion, DateTimeOffset Created);
