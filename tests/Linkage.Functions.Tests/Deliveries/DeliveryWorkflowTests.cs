using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure.Storage.Queues;
using Linkage.File1;
using Linkage.Functions.Api;
using Linkage.Functions.Deliveries;
using Linkage.Functions.Hosting;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Functions.Ttp;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Linkage.Functions.Tests.Deliveries;

/// <summary>
/// Deliveries through the local host on the real stack: a delivery that keeps failing is retried with backoff, held with
/// a note for its provider, and re-driven by an operator over HTTP (authorised and audited); a blob poisoned by its
/// trigger is held too; the timer purges ended workflow history.
/// </summary>
public sealed class DeliveryWorkflowTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    private static string Header => string.Join(',', File1Schema.FieldNames);

    /// <summary>One participant on an s251 basis: the file cannot be processed without the national opt-out list.</summary>
    private static string S251File(string prefix) => string.Join('\n',
        Header,
        $"{prefix}0001,C,9434765919,SMITH,ANNA,,1 HIGH ST,,,,,AB1 2CD,01/01/2000,,01/02/1970,2,01/01/2025,1,1,9,0,9,0,0,9,1,1,0,0,0,1,0,0,0") + "\n";

    private static readonly Dictionary<string, string?> TwoQuickAttempts = new()
    {
        ["Deliveries:MaxAttempts"] = "2",
        ["Deliveries:FirstRetryDelay"] = "00:00:01",
    };

    [Fact]
    public async Task A_delivery_waiting_for_the_opt_out_list_is_held_with_a_note_and_an_operator_redrives_it()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: TwoQuickAttempts);
        using var http = app.CreateClient();
        var blobs = stack.CreateBlobServiceClient();
        await blobs.GetBlobContainerClient(TtpStorage.Config).GetBlobClient(TtpStorage.NationalOptOutBlob).DeleteIfExistsAsync();
        var (blob, etag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "NCDS58/NCDS58_FILE1_v1_20250101.csv", S251File("NCD"));
        var delivery = new DeliveryRef(TtpStorage.File1Inbox, blob.Name, etag.ToString());
        var store = app.Services.GetRequiredService<DeliveryStore>();

        var held = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Held } r ? r : null, logs: app.Logs);
        Assert.Equal(FailureClass.Waiting, held.LastErrorClass);
        Assert.Equal(2, held.Attempts);
        Assert.Contains(nameof(NationalOptOutListMissingException), held.LastError, StringComparison.Ordinal);
        Assert.True((await blob.ExistsAsync()).Value, "a held delivery stays in the inbox");
        string note = await Wait.ForAsync(() => blobs.TryDownloadTextAsync(held.ProviderNote!)); // written just after the state
        Assert.Equal($"{TtpStorage.ProviderReports}/NCDS58/NCDS58_FILE1_v1_20250101.csv.held.txt", held.ProviderNote);
        Assert.Contains("NCDS58_FILE1_v1_20250101.csv", note, StringComparison.Ordinal);
        Assert.Contains("Nothing is lost", note, StringComparison.Ordinal);
        Assert.Contains(delivery.Id, note, StringComparison.Ordinal);

        // Operators see it; nobody else does.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/deliveries?state=Held")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(http, HttpMethod.Get, "/api/deliveries?state=Held", app.Token("reader", Roles.Reader))).StatusCode);
        var list = await Send(http, HttpMethod.Get, "/api/deliveries?state=Held", app.Token("op", Roles.Operator));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using (var doc = JsonDocument.Parse(await list.Content.ReadAsStringAsync()))
        {
            Assert.Contains(doc.RootElement.GetProperty("deliveries").EnumerateArray(), d => d.GetProperty("id").GetString() == delivery.Id);
        }

        // A re-drive by someone without the role is refused, and audited as such.
        var denied = await Send(http, HttpMethod.Post, $"/api/deliveries/{delivery.Id}/redrive", app.Token("Rita Reader", Roles.Reader));
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("application/problem+json", denied.Content.Headers.ContentType?.MediaType);

        // The operator uploads the list and re-drives: 202 with the workflow's status URL; the file is then accepted.
        await blobs.PutTextAsync(TtpStorage.Config, TtpStorage.NationalOptOutBlob, "NHS_NUMBER\n9434765919\n");
        string operatorToken = app.Token("Olive Operator", Roles.Operator);
        var redrive = await Send(http, HttpMethod.Post, $"/api/deliveries/{delivery.Id}/redrive", operatorToken);
        Assert.Equal(HttpStatusCode.Accepted, redrive.StatusCode);
        string location = redrive.Headers.Location!.OriginalString;
        Assert.Equal($"/api/workflows/{delivery.InstanceIdFor(1)}", location);

        var done = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Completed } r ? r : null, logs: app.Logs);
        Assert.Equal("Accepted", done.Outcome);
        Assert.Equal(1, done.Generation);
        Assert.Equal(1, done.Attempts);
        var status = await Wait.ForAsync(async () =>
        {
            var r = await Send(http, HttpMethod.Get, location, operatorToken);
            string body = await r.Content.ReadAsStringAsync();
            return r.StatusCode == HttpStatusCode.OK && body.Contains("\"Completed\"", StringComparison.Ordinal) ? body : null;
        });
        Assert.Contains("Accepted", status, StringComparison.Ordinal);

        // Nothing more to re-drive; and the audit log has both attempts, with who made them.
        Assert.Equal(HttpStatusCode.Conflict, (await Send(http, HttpMethod.Post, $"/api/deliveries/{delivery.Id}/redrive", operatorToken)).StatusCode);
        var audit = await Send(http, HttpMethod.Get, $"/api/audit?target=delivery/{delivery.Id}", operatorToken);
        string auditJson = await audit.Content.ReadAsStringAsync();
        using var auditDoc = JsonDocument.Parse(auditJson);
        var entries = auditDoc.RootElement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Contains(entries, e => e.GetProperty("outcome").GetString() == "denied" && e.GetProperty("name").GetString() == "Rita Reader" && e.GetProperty("status").GetInt32() == 403);
        Assert.Contains(entries, e => e.GetProperty("outcome").GetString() == "succeeded" && e.GetProperty("name").GetString() == "Olive Operator"
            && e.GetProperty("details").GetProperty("instanceId").GetString() == delivery.InstanceIdFor(1));
        Assert.Contains(entries, e => e.GetProperty("outcome").GetString() == "failed" && e.GetProperty("status").GetInt32() == 409);

        // The file's identifiers appear nowhere in what the failures, the hold and the re-drive left behind: the delivery
        // record, the audit entries, the workflow hub's history, the note, the API's answers and the logs.
        var scan = new IdentifierScan(["9434765919", "SMITH", "ANNA", "AB1 2CD", "01/02/1970", "1 HIGH ST"]);
        scan.AssertFree(JsonSerializer.Serialize(await store.GetAsync(delivery.Id, CancellationToken.None)), "the delivery record");
        scan.AssertFree(auditJson + status + note, "the API's answers and the note");
        Assert.True(await scan.ScanTablesAsync(stack.Stack.StorageConnectionString) > 0);
        scan.AssertFree(string.Join('\n', app.Logs.Lines), "the logs");
    }

    [Fact]
    public async Task A_delivery_held_after_failing_past_its_staging_leaves_no_staged_output_behind()
    {
        var settings = new Dictionary<string, string?>(TwoQuickAttempts) { ["Faults:At"] = File1Steps.Staged, ["Faults:Times"] = "0" };
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: settings);
        var blobs = stack.CreateBlobServiceClient();
        var (blob, etag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "TWINSUK/TWINSUK_FILE1_v1_20250101.csv", S251File("TWI").Replace(",1,0,0,0\n", ",0,0,0,0\n", StringComparison.Ordinal));
        var store = app.Services.GetRequiredService<DeliveryStore>();
        var delivery = new DeliveryRef(TtpStorage.File1Inbox, blob.Name, etag.ToString());

        var held = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Held } r ? r : null, logs: app.Logs);
        Assert.Equal(FailureClass.Unexpected, held.LastErrorClass);

        // Every attempt staged outputs and failed before its commit; holding withdraws them (just after the held state
        // and the note, so the test waits for it).
        async Task<List<string>> StagedAsync()
        {
            var names = new List<string>();
            foreach (var (container, prefix) in File1OutputWriter.StudyPrefixes("TWINSUK"))
            {
                names.AddRange((await blobs.GetBlobContainerClient(container).ListNamesAsync()).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
            }

            return names;
        }

        await Wait.ForAsync(async () => (await StagedAsync()).Count == 0 ? "withdrawn" : null, seconds: 60, logs: app.Logs);
        Assert.Contains(app.Logs.Lines, m => m.Contains("Withdrew", StringComparison.Ordinal) && m.Contains("TWINSUK", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_sweep_holds_a_delivery_whose_workflow_never_ran()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: new Dictionary<string, string?> { ["DeliverySweepSchedule"] = "*/2 * * * * *" });
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var (blob, etag) = await blobs.PutTextAsync("ttp-file1-inbox-parked", "MCS/MCS_FILE1_v1_20250101.csv", "x\n"); // no trigger sees it
        var delivery = new DeliveryRef(TtpStorage.File1Inbox, blob.Name, etag.ToString());
        var past = new ManualTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(30));
        var store = new DeliveryStore(app.Services.GetRequiredService<Linkage.Azure.Cosmos.CosmosDatabase>(), past);
        await store.EnsureAsync(delivery, CancellationToken.None); // recorded half an hour ago, and its workflow never started

        var appStore = app.Services.GetRequiredService<DeliveryStore>();
        var held = await Wait.ForAsync(async () => await appStore.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Held } r ? r : null, logs: app.Logs);
        Assert.Equal(FailureClass.WorkflowEnded, held.LastErrorClass);
        Assert.Contains("does not exist", held.LastError, StringComparison.Ordinal);
        Assert.Equal($"{TtpStorage.ProviderReports}/MCS/MCS_FILE1_v1_20250101.csv.held.txt", held.ProviderNote);
    }

    [Fact]
    public async Task Development_tokens_are_refused_outside_the_Development_environment()
    {
        // Outside Development the app starts only with a Key Vault and a zone list (never contacted here).
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?>
        {
            ["Keys:VaultUri"] = "https://linkage-test.vault.azure.net/",
            ["Runtime:Zones"] = ZoneOptions.DevelopmentDefault,
        }) { EnvironmentName = "Production" };
        using var http = app.CreateClient();
        var response = await Send(http, HttpMethod.Get, "/api/deliveries", app.Token("op", Roles.Operator));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Every_protected_endpoint_answers_401_without_a_valid_token_and_403_without_the_role()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly");
        using var http = app.CreateClient();
        var endpoints = Linkage.Functions.Hosting.FunctionCatalog.All
            .Select(f => (f.Name, Trigger: f.Method.GetParameters().Select(p => p.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.HttpTriggerAttribute), false).FirstOrDefault()).OfType<Microsoft.Azure.Functions.Worker.HttpTriggerAttribute>().FirstOrDefault()))
            .Where(x => x.Trigger is not null && x.Name != "Health")
            .ToList();
        Assert.True(endpoints.Count >= 5, "the scan needs the API's endpoints");
        string noRoles = app.Token("nobody");
        string forged = ForgedToken(Roles.All, "forger");
        string expired = Linkage.Azure.Identity.DevelopmentTokens.GetOrCreate(FunctionAppFactory.DevTokenFolder(stack.Stack))
            .Issue(Roles.All, "late", TimeSpan.FromMinutes(1), now: DateTimeOffset.UtcNow.AddHours(-1));
        foreach (var (name, trigger) in endpoints)
        {
            string url = "/api/" + System.Text.RegularExpressions.Regex.Replace(trigger!.Route!, "{([^}:?]+)[^}]*}", "x") + (name == "Audit" ? "?target=x" : "");
            var method = new HttpMethod(trigger.Methods![0].ToUpperInvariant());
            string documented = Linkage.Functions.Hosting.FunctionCatalog.Find(name)!.Method.GetCustomAttributes(typeof(ApiDocAttribute), false).Cast<ApiDocAttribute>().Single().Role!;
            var withoutRoles = documented == Roles.AnySignedIn ? HttpStatusCode.OK : HttpStatusCode.Forbidden; // the API's description needs a token, not a role
            foreach (var (token, expect, why) in new[] { ((string?)null, HttpStatusCode.Unauthorized, "no token"), (forged, HttpStatusCode.Unauthorized, "a forged token"), (expired, HttpStatusCode.Unauthorized, "an expired token"), (noRoles, withoutRoles, "a token without roles") })
            {
                var response = await Send(http, method, url, token);
                Assert.True(expect == response.StatusCode, $"{method} {url} with {why}: {(int)response.StatusCode}, expected {(int)expect}");
                if (expect == HttpStatusCode.OK)
                {
                    continue;
                }

                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                if (expect == HttpStatusCode.Forbidden)
                {
                    // The role the gate checks is the one the endpoint documents (OpenAPI is built from [ApiDoc]).
                    Assert.Contains(documented, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/health")).StatusCode); // the one anonymous endpoint
    }

    [Fact]
    public async Task A_blob_poisoned_by_its_trigger_is_held_with_a_note()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local");
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var (blob, etag) = await blobs.PutTextAsync("processor-file2-inbox-parked", "nhse_hes_apc/hes_2026.csv", "x\n"); // not an inbox the trigger watches
        var queue = new QueueClient(stack.Stack.StorageConnectionString, DeliveryFunctions.PoisonQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        string message = JsonSerializer.Serialize(new { Type = "BlobTrigger", FunctionId = "Host.Functions.File2Intake", BlobType = "BlockBlob", ContainerName = Linkage.Functions.Processor.ProcessorStorage.File2Inbox, BlobName = blob.Name, ETag = etag.ToString() });
        await queue.SendMessageAsync(message);

        var delivery = new DeliveryRef(Linkage.Functions.Processor.ProcessorStorage.File2Inbox, blob.Name, etag.ToString());
        var store = app.Services.GetRequiredService<DeliveryStore>();
        var held = await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Held } r ? r : null, logs: app.Logs);
        Assert.Equal(FailureClass.TriggerFailed, held.LastErrorClass);
        Assert.Equal($"{Linkage.Functions.Processor.ProcessorStorage.ProviderReports}/nhse_hes_apc/hes_2026.csv.held.txt", held.ProviderNote);
        Assert.Contains("hes_2026.csv", await Wait.ForAsync(() => blobs.TryDownloadTextAsync(held.ProviderNote!)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_purge_timer_deletes_the_history_of_ended_workflows()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "Local", settings: new Dictionary<string, string?>
        {
            ["WorkflowPurgeSchedule"] = "*/2 * * * * *",
            ["Workflows:RetainDays"] = "0",
        });
        _ = app.Services;
        var blobs = stack.CreateBlobServiceClient();
        var (blob, etag) = await blobs.PutTextAsync(TtpStorage.File1Inbox, "TEDS/TEDS_FILE1_v1_20250101.csv", Header + "\n"); // header only: rejected
        var delivery = new DeliveryRef(TtpStorage.File1Inbox, blob.Name, etag.ToString());
        var store = app.Services.GetRequiredService<DeliveryStore>();
        var durable = app.Services.GetRequiredService<DurableTaskClient>();

        await Wait.ForAsync(async () => await store.GetAsync(delivery.Id, CancellationToken.None) is { State: DeliveryState.Completed } r ? r : null, logs: app.Logs);
        await Wait.ForAsync(async () => await durable.GetInstanceAsync(delivery.InstanceIdFor(0)) is null ? "purged" : null, logs: app.Logs);
        await Wait.ForAsync(() => Task.FromResult(app.Logs.Lines.FirstOrDefault(l => l.Contains("Purged the history of", StringComparison.Ordinal))), seconds: 10);
        Assert.Equal(DeliveryState.Completed, (await store.GetAsync(delivery.Id, CancellationToken.None))!.State); // the delivery's own record stays
    }

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string url, string? token)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http.SendAsync(request);
    }

    /// <summary>A token like a development one, with the right issuer and audience, but signed by a key of its own.</summary>
    private static string ForgedToken(IEnumerable<string> roles, string name)
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var now = DateTime.UtcNow;
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = Linkage.Azure.Identity.DevelopmentTokens.Issuer,
            Audience = Linkage.Azure.Identity.DevelopmentTokens.Audience,
            IssuedAt = now,
            Expires = now.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = "forger", ["name"] = name, ["roles"] = roles.ToArray() },
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(key), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.EcdsaSha256),
        });
    }
}
