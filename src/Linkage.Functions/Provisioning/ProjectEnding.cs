using System.Globalization;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Linkage.Functions.Api;
using Linkage.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Provisioning;

/// <summary>Where a project's files live: one container per project, so access is granted and revoked per project.</summary>
public static class ProjectStorage
{
    /// <summary><c>project-llc-0001</c> for <c>LLC_0001</c> (container names are lower case, digits and hyphens).</summary>
    public static string Container(string projectId) => "project-" + projectId.ToLowerInvariant().Replace('_', '-');
}

/// <summary>
/// Ends a project (decision 0701): state Ended first, so nothing is provisioned to it again; then its container is
/// closed (no public access, metadata <c>state=ended</c>; in Azure the readers' role assignments are removed by the
/// deployment, see infra/); then its id and geography keys are destroyed (crypto-shredding, decision 0304); its files are
/// deleted at once or after <see cref="ProvisioningOptions.RetainDays"/>. Every step is idempotent, so a re-run after a
/// crash finishes the job.
/// </summary>
public sealed class ProjectEnding(ProjectStore store, BlobServiceClient blobs, KeyRingProvider keys, AuditLog audit, IOptions<ProvisioningOptions> options, TimeProvider time)
{
    public async Task<ProjectDocument> EndAsync(ProjectDocument project, ApiCaller caller, string role, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        int days = Math.Max(0, options.Value.RetainDays);
        var ended = await store.UpdateAsync(project.ProjectId, p => p.State == ProjectState.Ended ? null : p with
        {
            State = ProjectState.Ended,
            EndedAt = now,
            DeleteFilesAfter = now.AddDays(days),
        }, cancellationToken) ?? project;

        var container = blobs.GetBlobContainerClient(ProjectStorage.Container(project.ProjectId));
        if ((await container.ExistsAsync(cancellationToken)).Value)
        {
            await container.SetAccessPolicyAsync(PublicAccessType.None, cancellationToken: cancellationToken);
            await container.SetMetadataAsync(new Dictionary<string, string> { ["state"] = "ended" }, cancellationToken: cancellationToken);
        }

        await keys.DestroyProjectKeysAsync(project.ProjectId, cancellationToken);
        await audit.WriteAsync(caller, role, "projects.end", Target(project.ProjectId), "succeeded", StatusCodes.Status200OK, new Dictionary<string, string>
        {
            ["keys"] = "destroyed",
            ["filesDeleteAfter"] = ended.DeleteFilesAfter?.ToString("O", CultureInfo.InvariantCulture) ?? "",
            ["retainDays"] = days.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken);
        if (days == 0)
        {
            ended = await DeleteFilesAsync(ended, cancellationToken);
        }

        return ended;
    }

    /// <summary>
    /// Deletes an ended project's files once their retention has passed (the daily timer, or at once with no retention),
    /// and its TRE-side working state: the frozen cohort (its people, as TRE ids), pending-file records and file locks.
    /// </summary>
    /// <remarks>
    /// A provisioning run that passed its active check before the end can still write working state (its cohort, a lock
    /// blob) after the first sweep, so every later call sweeps <c>tre-projects/&lt;project&gt;/</c> again, even once
    /// <see cref="ProjectDocument.FilesDeleted"/> is set; it writes an audit entry only when it found something.
    /// </remarks>
    public async Task<ProjectDocument> DeleteFilesAsync(ProjectDocument project, CancellationToken cancellationToken)
    {
        if (project.State != ProjectState.Ended || project.DeleteFilesAfter > time.GetUtcNow())
        {
            return project;
        }

        int deleted = 0;
        if (!project.FilesDeleted)
        {
            var container = blobs.GetBlobContainerClient(ProjectStorage.Container(project.ProjectId));
            if ((await container.ExistsAsync(cancellationToken)).Value)
            {
                await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.Uncommitted, null, cancellationToken))
                {
                    await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
                    deleted++;
                }
            }
        }

        var (workingDeleted, held) = await DeleteWorkingStateAsync(project.ProjectId, cancellationToken);
        if (project.FilesDeleted && workingDeleted == 0 && held == 0)
        {
            return project; // the daily sweep of a project long done: nothing to record
        }

        var details = new Dictionary<string, string>
        {
            ["blobs"] = deleted.ToString(CultureInfo.InvariantCulture),
            ["treBlobs"] = workingDeleted.ToString(CultureInfo.InvariantCulture),
        };
        if (held > 0)
        {
            // A run that began before the end still holds a file lock: the daily timer finishes the job.
            details["treBlobsHeld"] = held.ToString(CultureInfo.InvariantCulture);
            await audit.WriteAsync(SystemCaller, null, "projects.files.delete", Target(project.ProjectId), "incomplete", 0, details, cancellationToken);
            return project;
        }

        var done = await store.UpdateAsync(project.ProjectId, p => p.FilesDeleted ? null : p with { FilesDeleted = true }, cancellationToken) ?? project;
        await audit.WriteAsync(SystemCaller, null, "projects.files.delete", Target(project.ProjectId), "succeeded", 0, details, cancellationToken);
        return done;
    }

    /// <summary>Deletes <c>tre-projects/&lt;project&gt;/…</c>; a blob under a lease (a lock still held) is left and counted.</summary>
    private async Task<(int Deleted, int Held)> DeleteWorkingStateAsync(string projectId, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(ProjectProvisioner.CohortContainer);
        int deleted = 0, held = 0;
        if (!(await container.ExistsAsync(cancellationToken)).Value)
        {
            return (0, 0);
        }

        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.Uncommitted, projectId + "/", cancellationToken))
        {
            try
            {
                await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
                deleted++;
            }
            catch (global::Azure.RequestFailedException e) when (e.ErrorCode == BlobErrorCode.LeaseIdMissing)
            {
                held++; // leased: deleting it needs the lease id, which only its holder has
            }
        }

        return (deleted, held);
    }

    public static string Target(string projectId) => $"project/{projectId}";

    private static ApiCaller SystemCaller { get; } = new("system:provisioning", "Provisioning", new HashSet<string>());
}

/// <summary>Registers the provisioning zone's services.</summary>
public static class ProvisioningZoneExtensions
{
    public static IHostApplicationBuilder AddProvisioningZone(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProvisioningOptions>().BindConfiguration(ProvisioningOptions.SectionName)
            .Validate(o => o.RetainDays >= 0, "Provisioning:RetainDays must be 0 or more.").ValidateOnStart();
        builder.Services.AddSingleton<ProjectStore>();
        builder.Services.AddSingleton<ProjectEnding>();
        builder.Services.AddSingleton<ProjectProvisioner>();
        builder.Services.AddSingleton<Workflows.Refresh.RefreshActivities>();
        builder.Services.AddSingleton<Workflows.Refresh.RefreshStarter>();
        return builder;
    }
}
