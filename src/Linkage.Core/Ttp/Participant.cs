using Linkage.Permissions;

namespace Linkage.Ttp;

/// <summary>What the TTP keeps of one participant of one accepted File 1: no identifier, only the token and derived facts.</summary>
public sealed class Participant(TokenBytes token)
{
    public TokenBytes Token { get; } = token;

    /// <summary>Flags from the current (C) row, with the national opt-out applied.</summary>
    public PermissionFlags Flags { get; internal set; }

    public IdentifierQuality Quality { get; internal set; }

    /// <summary>The study is on an s251 basis (National_Opt_Out = 1 on the current row).</summary>
    public bool S251 { get; internal set; }

    /// <summary>Some row of the participant carries an NHS number on the national opt-out list.</summary>
    public bool OnOptOutList { get; internal set; }

    public int HistoricalRows { get; internal set; }

    /// <summary>Keyed hash of (valid NHS number, full date of birth) for cross-study linking; null when either is missing.</summary>
    public UInt128? LinkKey { get; internal set; }

    /// <summary>True when identifiers for this participant may go to NHS England in the NHS Output.</summary>
    public bool InNhsOutput =>
        Flags.HasFlag(PermissionFlags.Active) && Flags.HasFlag(PermissionFlags.NhsE) && !Flags.HasFlag(PermissionFlags.NationalOptOutApplies);
}
