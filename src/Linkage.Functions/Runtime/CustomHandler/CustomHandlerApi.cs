using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Runtime.CustomHandler;

/// <summary>
/// The Azure Functions custom-handler protocol: the Functions host POSTs <c>{ "Data": {...}, "Metadata": {...} }</c> to
/// <c>/&lt;FunctionName&gt;</c> and reads <c>{ "Outputs": {...}, "Logs": [...], "ReturnValue": ... }</c>. A non-2xx answer
/// tells the host the invocation failed, so its own retry and poison handling apply. HTTP functions are forwarded as plain
/// requests (<c>enableForwardingHttpRequest</c> in host.json) and never come through here.
/// Binding names (see function.json): blob trigger <c>blob</c>, queue trigger <c>message</c>, timer <c>timer</c>.
/// </summary>
public static class CustomHandlerApi
{
    public static IEndpointRouteBuilder MapCustomHandlerApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/{functionName:regex(^[A-Za-z][A-Za-z0-9_]*$)}", InvokeAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> InvokeAsync(
        string functionName,
        HttpRequest request,
        FunctionCatalog catalog,
        BlobServiceClient blobs,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        if (!catalog.TryGet(functionName, out var function))
        {
            return Results.NotFound(Response([$"No function named '{functionName}' is enabled in this app."]));
        }

        var logger = loggers.CreateLogger("Linkage.Functions.CustomHandler");
        InvocationRequest invocation;
        try
        {
            invocation = await JsonSerializer.DeserializeAsync<InvocationRequest>(request.Body, JsonOptions, cancellationToken)
                ?? throw new JsonException("Empty request body.");
        }
        catch (JsonException e)
        {
            return Results.BadRequest(Response([$"The invocation payload is not valid JSON: {e.Message}"]));
        }

        try
        {
            switch (function)
            {
                case IBlobFunction blobFunction:
                    await blobFunction.RunAsync(await ToBlobContextAsync(blobFunction, invocation, blobs, cancellationToken), cancellationToken);
                    break;
                case IQueueFunction queueFunction:
                    await queueFunction.RunAsync(ToQueueContext(queueFunction, invocation), cancellationToken);
                    break;
                case ITimerFunction timerFunction:
                    await timerFunction.RunAsync(ToTimerContext(timerFunction, invocation), cancellationToken);
                    break;
                default:
                    return Results.BadRequest(Response([$"Function '{functionName}' has no trigger the custom handler can invoke."]));
            }
        }
        catch (InvocationPayloadException e)
        {
            return Results.BadRequest(Response([e.Message]));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Custom-handler invocation of {Function} failed", functionName);
            return Results.Json(Response([$"{functionName} failed: {e.GetType().Name}"]), statusCode: StatusCodes.Status500InternalServerError);
        }

        return Results.Json(Response([$"{functionName} completed"]));
    }

    internal static async Task<BlobTriggerContext> ToBlobContextAsync(IBlobFunction function, InvocationRequest invocation, BlobServiceClient blobs, CancellationToken cancellationToken)
    {
        var trigger = (BlobTriggerDefinition)function.Definition.Trigger;
        string path = MetadataString(invocation, "BlobTrigger") ?? throw new InvocationPayloadException("Metadata.BlobTrigger (\"container/blob name\") is missing.");
        string prefix = trigger.Container + "/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvocationPayloadException($"Metadata.BlobTrigger is not in container '{trigger.Container}'.");
        }

        string name = path[prefix.Length..];
        if (!new BlobPathPattern(trigger.PathPattern).TryMatch(name, out var values))
        {
            throw new InvocationPayloadException($"Blob name does not match the trigger pattern '{trigger.PathPattern}'.");
        }

        var blob = blobs.GetBlobContainerClient(trigger.Container).GetBlobClient(name);
        ETag etag = invocation.Metadata.TryGetValue("Properties", out var props) && props is JsonObject p && p["ETag"] is JsonValue e
            ? new ETag(e.ToString())
            : (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ETag;
        return new BlobTriggerContext(blob, name, etag, values, 1);
    }

    internal static QueueTriggerContext ToQueueContext(IQueueFunction function, InvocationRequest invocation)
    {
        var trigger = (QueueTriggerDefinition)function.Definition.Trigger;
        if (!invocation.Data.TryGetValue("message", out var data) || data is null)
        {
            throw new InvocationPayloadException("Data.message (the queue message) is missing.");
        }

        string body = data is JsonValue v && v.TryGetValue(out string? s) ? s : data.ToJsonString();
        long dequeueCount = long.TryParse(MetadataString(invocation, "DequeueCount"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : 1;
        return new QueueTriggerContext(trigger.QueueName, MetadataString(invocation, "Id") ?? "", body, dequeueCount);
    }

    internal static TimerTriggerContext ToTimerContext(ITimerFunction function, InvocationRequest invocation)
    {
        var schedule = Timers.TimerTriggerListener.ParseSchedule(((TimerTriggerDefinition)function.Definition.Trigger).Schedule);
        var now = DateTimeOffset.UtcNow;
        JsonObject? timer = invocation.Data.TryGetValue("timer", out var t) ? t as JsonObject : null;
        bool pastDue = timer?["IsPastDue"]?.GetValue<bool>() ?? false;
        DateTimeOffset? last = ReadDate(timer?["ScheduleStatus"]?["Last"]);
        DateTimeOffset next = schedule.GetNextOccurrence(now, TimeZoneInfo.Utc) ?? now;
        DateTimeOffset scheduled = ReadDate(timer?["ScheduleStatus"]?["Next"]) ?? now;
        return new TimerTriggerContext(scheduled <= now ? scheduled : now, pastDue, last, next);
    }

    private static DateTimeOffset? ReadDate(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;

    private static string? MetadataString(InvocationRequest invocation, string key) =>
        invocation.Metadata.TryGetValue(key, out var node) && node is not null
            ? (node is JsonValue v && v.TryGetValue(out string? s) ? s : node.ToJsonString())
            : null;

    private static InvocationResponse Response(IReadOnlyList<string> logs) => new(new Dictionary<string, object?>(), logs, null);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };
}

/// <summary>What the Functions host sends.</summary>
public sealed record InvocationRequest(Dictionary<string, JsonNode?> Data, Dictionary<string, JsonNode?> Metadata);

/// <summary>What the Functions host reads back.</summary>
public sealed record InvocationResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("Outputs")] IReadOnlyDictionary<string, object?> Outputs,
    [property: System.Text.Json.Serialization.JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
    [property: System.Text.Json.Serialization.JsonPropertyName("ReturnValue")] object? ReturnValue);

/// <summary>The invocation payload lacks something the function's trigger needs.</summary>
public sealed class InvocationPayloadException(string message) : Exception(message);
