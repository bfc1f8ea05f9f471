using System.CommandLine;

namespace Linkage.Cli.Synth;

// STUB — owned by the synthetic-data work; replaced there.
internal static class SynthCommand
{
    public static Command Create() => new("synth", "Generate seeded synthetic File 1s, opt-out list and File 2 datasets.");
}
