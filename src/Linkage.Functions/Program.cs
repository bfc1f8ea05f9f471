using Linkage.Functions.Health;
using Linkage.Functions.Hosting;
using Linkage.Functions.Processor;
using Linkage.Functions.Runtime;
using Linkage.Functions.Runtime.CustomHandler;
using Linkage.Functions.Ttp;

var builder = WebApplication.CreateBuilder(args);

builder.AddLocalSettings();
builder.AddCustomHandlerPort();
builder.AddTelemetry();
builder.AddLinkageAzureClients();
builder.AddLinkageCosmos();
builder.AddLinkageKeys();
builder.AddFunctionRuntime();
builder.AddHealthChecks();
builder.AddTtpZone();
builder.AddProcessorZone();

var app = builder.Build();

app.MapHealthApi();
app.MapCustomHandlerApi();

app.Run();

/// <summary>Entry point; public so tests can host the app in-process.</summary>
public partial class Program;
