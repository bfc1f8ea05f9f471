using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Linkage.Functions.Provisioning;
using Linkage.Functions.Tests.Infrastructure;
using Linkage.Keys;
using Microsoft.Extensions.DependencyInjection;

using static Linkage.Functions.Tests.Infrastructure.ApiCalls;

namespace Linkage.Functions.Tests.Provisioning;

/// <summary>Projects over HTTP against the real local stack: create, read, change, end (keys destroyed, container closed, files deleted), each audited.</summary>
public sealed class ProjectsApiTests(IsolatedStackFixture stack) : IClassFixture<IsolatedStackFixture>
{
    [Fact]
    public async Task A_project_is_created_changed_and_ended_with_its_keys_destroyed_and_every_call_audited()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["Provisioning:RetainDays"] = "0" });
        using var http = app.CreateClient();
        string admin = app.Token("Pat ProjectAdmin", Roles.ProjectAdmin);
        string id = "LLC_" + Random.Shared.Next(1000, 9999);

        // Bad requests say what to send; the LSOA11 mappings are always added.
        await ProblemAsync(await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id = "PROJ1", title = "t", studies = new[] { "ALSPAC" }, datasets = Array.Empty<string>(), endDate = "2030-01-01" }), HttpStatusCode.BadRequest, "LLC_0001");
        await ProblemAsync(await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id, title = "t", studies = new[] { "ALSPAC" }, datasets = new[] { "no_such" }, endDate = "2030-01-01" }), HttpStatusCode.BadRequest, "not a catalogued dataset");
        await ProblemAsync(await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id, title = "t", studies = new[] { "ALSPAC" }, datasets = Array.Empty<string>(), endDate = "2020-01-01" }), HttpStatusCode.BadRequest, "endDate must be after today");
        await ProblemAsync(await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id, title = "t", studies = new[] { "ALSPAC" }, datasets = new[] { "london_sde_asc_cld" }, endDate = "2030-01-01" }), HttpStatusCode.BadRequest, "another organisation's patient key");
        var created = await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id, title = "Deprivation and hospital use", studies = new[] { "ALSPAC", "UKHLS" }, datasets = new[] { "nhse_hes_apc" }, endDate = "2030-01-01" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/projects/{id}", created.Headers.Location?.ToString());
        var project = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["nhse_lsoa11_dataset_mapping", "nhse_hes_apc"], project.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));
        await ProblemAsync(await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id, title = "again", studies = new[] { "ALSPAC" }, datasets = Array.Empty<string>(), endDate = "2030-01-01" }), HttpStatusCode.Conflict, "exists");

        // Read and change.
        Assert.Contains((await (await SendAsync(http, HttpMethod.Get, "/api/projects", admin)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("projects").EnumerateArray(), p => p.GetProperty("id").GetString() == id);
        var studies = await SendAsync(http, HttpMethod.Put, $"/api/projects/{id}/studies", admin, new { items = new[] { "ALSPAC" } });
        Assert.Equal(["ALSPAC"], (await studies.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("studies").EnumerateArray().Select(s => s.GetString()));
        var datasets = await SendAsync(http, HttpMethod.Put, $"/api/projects/{id}/datasets", admin, new { items = new[] { "imd2019_lsoa11" } });
        Assert.Equal(["nhse_lsoa11_dataset_mapping", "imd2019_lsoa11"], (await datasets.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("datasets").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, "/api/projects/LLC_0000", admin)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Get, $"/api/projects/{id}", app.Token("Rhea Researcher", Roles.Reader))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, HttpMethod.Get, $"/api/projects/{id}", null)).StatusCode);

        // The project's keys exist and make tokens; a file sits in its container.
        var keys = app.Services.GetRequiredService<KeyRingProvider>();
        using (var cipher = await keys.GetCipherAsync(KeyPurposes.ProjectId(id), CancellationToken.None))
        {
            Assert.Equal(22, cipher.Encrypt("P1").Length);
        }

        var container = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectStorage.Container(id));
        await container.CreateIfNotExistsAsync();
        await container.GetBlobClient("nhse_lsoa11_dataset_mapping_v0001_20260101.csv").UploadAsync(BinaryData.FromString("cohortkey_e\n"));

        // The project's TRE-side working state (its frozen cohort, a pending-file record and a file lock), beside another
        // project's, which must be left alone.
        var working = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectProvisioner.CohortContainer);
        await working.CreateIfNotExistsAsync();
        foreach (var name in new[] { ProjectProvisioner.CohortBlob(id), ProjectProvisioner.PendingFileBlob(id, "f1"), $"{id}/file-locks/f1", $"{id}X/cohort.bin" })
        {
            await working.GetBlobClient(name).UploadAsync(BinaryData.FromString("x"), overwrite: true);
        }

        // End: state, container closed, keys destroyed, files deleted (no retention configured), audited.
        var ended = await SendAsync(http, HttpMethod.Post, $"/api/projects/{id}/end", admin);
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var view = await ended.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Ended", view.GetProperty("state").GetString());
        Assert.True(view.GetProperty("filesDeleted").GetBoolean());
        Assert.Equal("ended", (await container.GetPropertiesAsync()).Value.Metadata["state"]);
        Assert.Empty(await container.ListNamesAsync());
        Assert.Equal([$"{id}X/cohort.bin"], (await working.ListNamesAsync()).Where(n => n.StartsWith(id, StringComparison.Ordinal)));
        await Assert.ThrowsAsync<KeyDestroyedException>(() => keys.GetCipherAsync(KeyPurposes.ProjectId(id), CancellationToken.None));
        await Assert.ThrowsAsync<KeyDestroyedException>(() => keys.GetCipherAsync(KeyPurposes.ProjectGeography(id), CancellationToken.None));
        await ProblemAsync(await SendAsync(http, HttpMethod.Put, $"/api/projects/{id}/datasets", admin, new { items = new[] { "nhse_hes_apc" } }), HttpStatusCode.Conflict, "ended");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Post, $"/api/projects/{id}/end", admin)).StatusCode); // idempotent

        var audit = await app.Services.GetRequiredService<AuditLog>().ForTargetAsync(ProjectEnding.Target(id), 100, CancellationToken.None);
        foreach (var action in new[] { "projects.create", "projects.studies", "projects.datasets", "projects.read", "projects.end" })
        {
            Assert.Contains(audit, e => e.Action == action);
        }

        Assert.Contains(audit, e => e is { Action: "projects.read", Outcome: "denied", Status: 403, Name: "Rhea Researcher" });
        Assert.Contains(await app.Services.GetRequiredService<AuditLog>().ForTargetAsync("projects", 1000, CancellationToken.None), e => e is { Action: "projects.list", Outcome: "succeeded", Name: "Pat ProjectAdmin" });
        Assert.Contains(audit, e => e is { Action: "projects.end", Outcome: "succeeded" } && e.Details["keys"] == "destroyed");
        Assert.Contains(audit, e => e is { Action: "projects.files.delete", Outcome: "succeeded" } && e.Details["blobs"] == "1" && e.Details["treBlobs"] == "3");
    }

    [Fact]
    public async Task A_file_lock_still_held_at_the_end_leaves_the_deletion_to_the_daily_run_which_finishes_it()
    {
        await using var app = new FunctionAppFactory(stack.Stack, "ServicesOnly", settings: new Dictionary<string, string?> { ["Provisioning:RetainDays"] = "0" });
        using var http = app.CreateClient();
        string admin = app.Token("Pat ProjectAdmin", Roles.ProjectAdmin);
        string id = "LLC_" + Random.Shared.Next(1000, 9999);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, HttpMethod.Post, "/api/projects", admin, new { id, title = "t", studies = new[] { "ALSPAC" }, datasets = Array.Empty<string>(), endDate = "2030-01-01" })).StatusCode);

        // A provisioning run that began before the end still holds its file's lock.
        var working = stack.CreateBlobServiceClient().GetBlobContainerClient(ProjectProvisioner.CohortContainer);
        await working.CreateIfNotExistsAsync();
        await working.GetBlobClient(ProjectProvisioner.CohortBlob(id)).UploadAsync(BinaryData.FromString("x"), overwrite: true);
        var lockBlob = working.GetBlobClient($"{id}/file-locks/f1");
        await lockBlob.UploadAsync(BinaryData.FromString(""), overwrite: true);
        var lease = global::Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlobLeaseClient(lockBlob);
        await lease.AcquireAsync(TimeSpan.FromSeconds(60));

        var ended = await (await SendAsync(http, HttpMethod.Post, $"/api/projects/{id}/end", admin)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Ended", ended.GetProperty("state").GetString());
        Assert.False(ended.GetProperty("filesDeleted").GetBoolean()); // not claimed while something is left
        Assert.Equal([$"{id}/file-locks/f1"], (await working.ListNamesAsync()).Where(n => n.StartsWith(id + "/", StringComparison.Ordinal)));
        var audit = app.Services.GetRequiredService<AuditLog>();
        Assert.Contains(await audit.ForTargetAsync(ProjectEnding.Target(id), 100, CancellationToken.None), e => e is { Action: "projects.files.delete", Outcome: "incomplete" } && e.Details["treBlobsHeld"] == "1");

        // The lock is released; the daily run finishes the deletion and only then records it.
        await lease.ReleaseAsync();
        var store = app.Services.GetRequiredService<ProjectStore>();
        var done = await app.Services.GetRequiredService<ProjectEnding>().DeleteFilesAsync((await store.GetAsync(id, CancellationToken.None))!, CancellationToken.None);
        Assert.True(done.FilesDeleted);
        Assert.DoesNotContain(await working.ListNamesAsync(), n => n.StartsWith(id + "/", StringComparison.Ordinal));
        Assert.Contains(await audit.ForTargetAsync(ProjectEnding.Target(id), 100, CancellationToken.None), e => e is { Action: "projects.files.delete", Outcome: "succeeded" } && e.Details["treBlobs"] == "1");

        // A run that passed its active check before the end writes its cohort late: the next daily run still removes it,
        // and a daily run that finds nothing records nothing.
        await working.GetBlobClient(ProjectProvisioner.CohortBlob(id)).UploadAsync(BinaryData.FromString("late"), overwrite: true);
        var ending = app.Services.GetRequiredService<ProjectEnding>();
        await ending.DeleteFilesAsync(done, CancellationToken.None);
        Assert.DoesNotContain(await working.ListNamesAsync(), n => n.StartsWith(id + "/", StringComparison.Ordinal));
        var entries = (await audit.ForTargetAsync(ProjectEnding.Target(id), 100, CancellationToken.None)).Count(e => e.Action == "projects.files.delete");
        Assert.Equal(3, entries);
        await ending.DeleteFilesAsync(done, CancellationToken.None);
        Assert.Equal(entries, (await audit.ForTargetAsync(ProjectEnding.Target(id), 100, CancellationToken.None)).Count(e => e.Action == "projects.files.delete"));
    }

    private static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string says)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(says, body, StringComparison.Ordinal);
    }

}
