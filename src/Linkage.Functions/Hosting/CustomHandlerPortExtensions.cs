namespace Linkage.Functions.Hosting;

public static class CustomHandlerPortExtensions
{
    /// <summary>
    /// Under the Functions host, listen where it says (<c>FUNCTIONS_CUSTOMHANDLER_PORT</c>); locally the default is
    /// http://localhost:7071 (the port Functions Core Tools uses), unless ASPNETCORE_URLS or --urls says otherwise.
    /// </summary>
    public static WebApplicationBuilder AddCustomHandlerPort(this WebApplicationBuilder builder)
    {
        string? port = Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT");
        if (!string.IsNullOrEmpty(port))
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
        {
            builder.WebHost.UseUrls("http://localhost:7071");
        }

        return builder;
    }
}
