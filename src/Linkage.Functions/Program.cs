using Linkage.Functions.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;

// The Azure Functions isolated worker. Everything but the worker's own wiring is in AddLinkageApp, which the local host
// (tools/Linkage.LocalHost) calls too.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ZoneGuardMiddleware>();
builder.AddLinkageApp();
builder.Build().Run();
