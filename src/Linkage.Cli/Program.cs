using System.CommandLine;
using Linkage.Cli.Bench;
using Linkage.Cli.DevToken;
using Linkage.Cli.File1;
using Linkage.Cli.Synth;

var root = new RootCommand("linkage: tools for the split-file linkage pipeline of a Trusted Research Environment");
root.Subcommands.Add(SynthCommand.Create());
root.Subcommands.Add(File1Command.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DevTokenCommand.Create());
return await root.Parse(args).InvokeAsync();
