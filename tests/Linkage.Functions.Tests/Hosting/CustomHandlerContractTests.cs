using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Linkage.Functions.Runtime;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Tests.Runtime;

namespace Linkage.Functions.Tests.Hosting;

/// <summary>
/// The payloads the Azure Functions host sends a custom handler (documented shapes: <c>Data</c> holds trigger data by
/// binding name, <c>Metadata</c> the trigger metadata) and the response it expects (<c>Outputs</c>, <c>Logs</c>, <c>ReturnValue</c>).
/// </summary>
[Collection(LocalStackCollection.Name)]
public class CustomHandlerContractTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Queue_payload_invokes_the_function_and_answers_the_documented_shape()
    {
        var function = new RecordingQueueFunction("workflow-tasks", alwaysFail: false);
        await using var app = FunctionAppFactory.WithFunctions(stack, "CustomHandler", function);
        using var client = app.CreateClient();
        var payload = JsonNode.Parse("""
        {
          "Data": { "message": "{\"instance\":\"q-2026-1\"}" },
          "Metadata": {
            "DequeueCount": 2,
            "ExpirationTime": "2026-12-02T10:00:00+00:00",
            "Id": "b2f4c8e5-6a8c-4c22-9d5e-1f0a8b2f7e11",
            "InsertionTime": "2026-11-25T10:00:00+00:00",
            "NextVisibleTime": "2026-11-25T10:10:00+00:00",
            "PopReceipt": "AgAAAAMAAAAAAAAA",
            "sys": { "MethodName": "RecordingQueue", "UtcNow": "2026-11-25T10:00:01Z", "RandGuid": "0a1b2c3d-0000-0000-0000-000000000000" }
          }
        }
        """);

        var response = await client.PostAsJsonAsync("/RecordingQueue", payload);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True(body.ContainsKey("Outputs"));
        Assert.IsType<JsonArray>(body["Logs"]);
        Assert.True(body.ContainsKey("ReturnValue"));
        var run = Assert.Single(function.Runs);
        Assert.Equal("{\"instance\":\"q-2026-1\"}", run.Body);
        Assert.Equal(2, run.DequeueCount);
    }

    [Fact]
    public async Task Blob_payload_resolves_the_blob_from_metadata()
    {
        string container = LocalStackFixture.UniqueName("inbox");
        var blobs = stack.CreateBlobServiceClient().GetBlobContainerClient(container);
        await blobs.CreateIfNotExistsAsync();
        var uploaded = await blobs.GetBlobClient("ALSPAC/ALSPAC_FILE1_v1_20260301.csv").UploadAsync(BinaryData.FromString("x"));
        var function = new RecordingBlobFunction(container);
        await using var app = FunctionAppFactory.WithFunctions(stack, "CustomHandler", function);
        using var client = app.CreateClient();
        var payload = new JsonObject
        {
            ["Data"] = new JsonObject { ["blob"] = "x" },
            ["Metadata"] = new JsonObject
            {
                ["BlobTrigger"] = $"{container}/ALSPAC/ALSPAC_FILE1_v1_20260301.csv",
                ["Uri"] = $"http://127.0.0.1/devstoreaccount1/{container}/ALSPAC/ALSPAC_FILE1_v1_20260301.csv",
                ["Properties"] = new JsonObject { ["ETag"] = uploaded.Value.ETag.ToString(), ["Length"] = 1 },
                ["Metadata"] = new JsonObject(),
                ["study"] = "ALSPAC",
                ["name"] = "ALSPAC_FILE1_v1_20260301.csv",
                ["sys"] = new JsonObject { ["MethodName"] = "RecordingBlob", ["UtcNow"] = "2026-11-25T10:00:01Z" },
            },
        };

        var response = await client.PostAsJsonAsync("/RecordingBlob", payload);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = Assert.Single(function.Runs);
        Assert.Equal("ALSPAC/ALSPAC_FILE1_v1_20260301.csv", run.Name);
        Assert.Equal(uploaded.Value.ETag.ToString(), run.ETag);
    }

    [Fact]
    public async Task Timer_payload_passes_schedule_status_and_past_due()
    {
        var function = new RecordingTimerFunction("0 0 2 * * *", "NightlyTimer");
        await using var app = FunctionAppFactory.WithFunctions(stack, "CustomHandler", function);
        using var client = app.CreateClient();
        var payload = JsonNode.Parse("""
        {
          "Data": { "timer": { "Schedule": { "AdjustForDST": true }, "ScheduleStatus": { "Last": "2026-11-23T02:00:00+00:00", "Next": "2026-11-24T02:00:00+00:00", "LastUpdated": "2026-11-23T02:00:00+00:00" }, "IsPastDue": true } },
          "Metadata": { "sys": { "MethodName": "NightlyTimer", "UtcNow": "2026-11-25T10:00:00Z" } }
        }
        """);

        var response = await client.PostAsJsonAsync("/NightlyTimer", payload);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = Assert.Single(function.Runs);
        Assert.True(run.IsPastDue);
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T02:00:00+00:00", System.Globalization.CultureInfo.InvariantCulture), run.Last);
    }

    [Fact]
    public async Task A_failing_function_answers_500_so_the_host_retries()
    {
        var function = new RecordingQueueFunction("q", alwaysFail: true);
        await using var app = FunctionAppFactory.WithFunctions(stack, "CustomHandler", function);
        using var client = app.CreateClient();
        var response = await client.PostAsJsonAsync("/RecordingQueue", JsonNode.Parse("""{ "Data": { "message": "x" }, "Metadata": { "DequeueCount": 1 } }"""));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.NotEmpty(body["Logs"]!.AsArray());
    }

    [Fact]
    public async Task Unknown_function_and_bad_payload_are_client_errors()
    {
        var function = new RecordingQueueFunction("q", alwaysFail: false);
        await using var app = FunctionAppFactory.WithFunctions(stack, "CustomHandler", function);
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/NoSuchFunction", new { Data = new { }, Metadata = new { } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/RecordingQueue", new StringContent("not json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/RecordingQueue", new { Data = new { }, Metadata = new { } })).StatusCode);
        Assert.Empty(function.Runs);
    }

    [Fact]
    public async Task Health_reports_each_dependency()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "CustomHandler");
        using var client = app.CreateClient();
        var response = await client.GetAsync("/api/health");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", (string?)body["status"]);
        var deps = body["dependencies"]!.AsArray().Select(d => ((string?)d!["name"], (string?)d["status"])).ToArray();
        Assert.Contains(("blob-storage", "ok"), deps);
        Assert.Contains(("queue-storage", "ok"), deps);
        Assert.Contains(("cosmos", "ok"), deps);
        Assert.Contains(("keys", "ok"), deps);
    }
}
