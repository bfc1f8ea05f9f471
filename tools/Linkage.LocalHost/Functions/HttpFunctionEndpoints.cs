using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.Azure.Functions.Worker;

namespace Linkage.LocalHost.Functions;

/// <summary>Serves the app's HTTP functions under <c>/api/</c>, with their routes and methods read from <c>[HttpTrigger]</c>.</summary>
public static class HttpFunctionEndpoints
{
    public static IEndpointRouteBuilder MapHttpFunctions(this IEndpointRouteBuilder app, IEnumerable<AppFunction> functions)
    {
        foreach (var f in functions.Where(f => f.Kind == TriggerKind.Http))
        {
            var trigger = (HttpTriggerAttribute)f.Trigger;
            string route = "/api/" + (trigger.Route ?? f.Name).TrimStart('/');
            string[] methods = trigger.Methods is { Length: > 0 } m ? [.. m.Select(x => x.ToUpperInvariant())] : ["GET", "POST", "PUT", "PATCH", "DELETE"];
            app.MapMethods(route, methods, (HttpContext http) => InvokeAsync(f, http)).WithName(f.Name);
        }

        return app;
    }

    private static async Task InvokeAsync(AppFunction function, HttpContext http)
    {
        var invoker = http.RequestServices.GetRequiredService<FunctionInvoker>();
        var data = http.Request.RouteValues.ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.ToString(), StringComparer.OrdinalIgnoreCase);
        object? result;
        try
        {
            result = await invoker.InvokeAsync(function, http.Request, data, http.RequestAborted);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            // As the Functions host: a failed function is a 500 without details; the log has them.
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Function." + function.Name).LogError(e, "HTTP function {Function} failed", function.Name);
            result = new StatusCodeResult(StatusCodes.Status500InternalServerError);
        }

        switch (result)
        {
            case IActionResult action:
                await action.ExecuteResultAsync(new ActionContext(http, http.GetRouteData(), new ActionDescriptor()));
                break;
            case IResult r:
                await r.ExecuteAsync(http);
                break;
            case null:
                http.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            case string text:
                await http.Response.WriteAsync(text);
                break;
            default:
                await http.Response.WriteAsJsonAsync(result);
                break;
        }
    }
}
