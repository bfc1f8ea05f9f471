using System.CommandLine;
using System.Text;
using System.Text.Json;
using Linkage.Cli.DevToken;

namespace Linkage.Cli.Tests.DevToken;

/// <summary>`linkage dev-token` prints a signed token with the roles and name asked for, and refuses roles the app does not have.</summary>
public sealed class DevTokenCommandTests : IDisposable
{
    private readonly string _keys = Directory.CreateTempSubdirectory("linkage-devtoken-").FullName;

    public void Dispose() => Directory.Delete(_keys, recursive: true);

    private async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(DevTokenCommand.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await root.Parse([.. args, "--key-folder", _keys]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Prints_an_es256_token_with_the_roles_and_name_and_keeps_the_key_private()
    {
        var (exit, output, _) = await Run("dev-token", "--role", "Linkage.Operator", "--role", "Linkage.Reader", "--name", "Olive Operator", "--minutes", "5");

        Assert.Equal(0, exit);
        string[] parts = output.Trim().Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64Url(parts[0]));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        using var payload = JsonDocument.Parse(Base64Url(parts[1]));
        Assert.Equal("Olive Operator", payload.RootElement.GetProperty("name").GetString());
        Assert.Equal(["Linkage.Operator", "Linkage.Reader"], payload.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        long lifetime = payload.RootElement.GetProperty("exp").GetInt64() - payload.RootElement.GetProperty("iat").GetInt64();
        Assert.Equal(300, lifetime);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_keys, "es256.pem")));
        }

        // The same key signs the next token: the app validating against the folder keeps accepting them.
        var (_, again, _) = await Run("dev-token", "--role", "Linkage.Reader");
        using var header2 = JsonDocument.Parse(Base64Url(again.Trim().Split('.')[0]));
        Assert.Equal(header.RootElement.GetProperty("kid").GetString(), header2.RootElement.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task An_unknown_role_is_refused_with_the_list_of_roles()
    {
        var (exit, output, error) = await Run("dev-token", "--role", "Linkage.Admin");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("Linkage.Operator", error, StringComparison.Ordinal);
    }

    private static string Base64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Encoding.UTF8.GetString(Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=')));
    }
}
