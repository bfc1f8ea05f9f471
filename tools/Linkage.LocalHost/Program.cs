using Linkage.Functions.Hosting;
using Linkage.LocalHost;
using Linkage.LocalHost.Functions;

// The local host (development and tests only): the function app's own functions, discovered from their attributes,
// with blob/queue/timer triggers, HTTP on http://localhost:7071/api/ and Durable work on the Durable Task Framework over
// the local stack. Settings: environment variables, then local.settings.json's Values (as Core Tools reads them).
// The environment: AZURE_FUNCTIONS_ENVIRONMENT as in Azure, else the usual ASP.NET Core variables, else Development (a
// development tool). Set through configuration, not fixed here, so a test host can still choose another.
if (Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is null && Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_ENVIRONMENT", Environment.GetEnvironmentVariable("AZURE_FUNCTIONS_ENVIRONMENT") ?? "Development");
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddLocalSettings();
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
{
    builder.WebHost.UseUrls("http://localhost:7071"); // Core Tools' port
}

builder.AddLinkageApp();
builder.AddLocalFunctionsHost(typeof(LinkageAppExtensions).Assembly);

var app = builder.Build();
app.MapHttpFunctions(app.Services.GetRequiredService<IReadOnlyList<AppFunction>>());
app.Run();

/// <summary>Entry point; public so tests can host the local host in-process.</summary>
public partial class Program;
