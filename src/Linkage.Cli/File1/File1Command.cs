using System.CommandLine;

namespace Linkage.Cli.File1;

// STUB — owned by the File 1 validation work; replaced there.
internal static class File1Command
{
    public static Command Create() => new("file1", "File 1 tools for providers.");
}
