using System.CommandLine;
using Linkage.Azure.Identity;

namespace Linkage.Cli.DevToken;

/// <summary>
/// `linkage dev-token --role R [--role R2] [--name N]`: prints a bearer token for the local app's HTTP API, signed by the
/// development key outside the repository. Only an app running in Development accepts it.
/// </summary>
internal static class DevTokenCommand
{
    private static readonly string[] KnownRoles = ["Linkage.Operator", "Linkage.ProjectAdmin", "Linkage.Reviewer", "Linkage.Reader"];

    public static Command Create()
    {
        var roles = new Option<string[]>("--role") { Description = "An app role to put in the token (repeatable): " + string.Join(", ", KnownRoles), AllowMultipleArgumentsPerToken = false, Required = true };
        var name = new Option<string>("--name") { Description = "Who the token is for (its name claim; audited).", DefaultValueFactory = _ => Environment.UserName };
        var minutes = new Option<int>("--minutes") { Description = "Lifetime in minutes.", DefaultValueFactory = _ => 60 };
        var folder = new Option<string?>("--key-folder") { Description = "Folder of the development signing key (default ~/.linkage/dev-token; the app reads Api__DevelopmentKeyFolder)." };
        var command = new Command("dev-token", "Print a development bearer token for the local app's HTTP API.");
        command.Options.Add(roles);
        command.Options.Add(name);
        command.Options.Add(minutes);
        command.Options.Add(folder);
        command.SetAction((ParseResult pr) =>
        {
            var output = pr.InvocationConfiguration.Output;
            var error = pr.InvocationConfiguration.Error;
            string[] requested = pr.GetValue(roles) ?? [];
            var unknown = requested.Where(r => !KnownRoles.Contains(r, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0)
            {
                error.WriteLine($"Unknown role {string.Join(", ", unknown)}; the app's roles are {string.Join(", ", KnownRoles)}.");
                return 2;
            }

            int lifetime = pr.GetValue(minutes);
            if (lifetime is < 1 or > 24 * 60)
            {
                error.WriteLine("--minutes must be between 1 and 1440.");
                return 2;
            }

            var tokens = DevelopmentTokens.GetOrCreate(pr.GetValue(folder));
            output.WriteLine(tokens.Issue(requested, pr.GetValue(name)!, TimeSpan.FromMinutes(lifetime)));
            return 0;
        });
        return command;
    }
}
