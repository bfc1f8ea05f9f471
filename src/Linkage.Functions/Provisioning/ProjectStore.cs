using System.Net;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Provisioning;

/// <summary>Projects and their provisioned files in Cosmos (container <c>projects</c>, partition <c>/projectId</c>).</summary>
public sealed class ProjectStore(CosmosDatabase database)
{
    public const string ContainerId = "projects";

    /// <summary>Creates the project; false when one of that id exists (nothing changed).</summary>
    public async Task<bool> CreateAsync(ProjectDocument project, CancellationToken cancellationToken)
    {
        try
        {
            await (await ContainerAsync(cancellationToken)).CreateItemAsync(project, new PartitionKey(project.ProjectId), cancellationToken: cancellationToken);
            return true;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public async Task<ProjectDocument?> GetAsync(string projectId, CancellationToken cancellationToken) =>
        await ReadAsync<ProjectDocument>("project", projectId, cancellationToken);

    public async Task<IReadOnlyList<ProjectDocument>> ListAsync(CancellationToken cancellationToken) =>
        (await QueryAsync<ProjectDocument>(new QueryDefinition("SELECT * FROM c WHERE c.id = 'project'"), null, cancellationToken)).OrderBy(p => p.ProjectId, StringComparer.Ordinal).ToList();

    /// <summary>Changes the project under optimistic concurrency; <paramref name="change"/> returns null to leave it. Returns it as stored.</summary>
    public async Task<ProjectDocument?> UpdateAsync(string projectId, Func<ProjectDocument, ProjectDocument?> change, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        await container.UpdateAsync<ProjectDocument>("project", new PartitionKey(projectId), p => p is null ? null : change(p), cancellationToken);
        return await GetAsync(projectId, cancellationToken);
    }

    public async Task<ProjectFileDocument?> GetFileAsync(string projectId, string datasetId, int version, CancellationToken cancellationToken) =>
        await ReadAsync<ProjectFileDocument>(ProjectFileDocument.IdFor(datasetId, version), projectId, cancellationToken);

    /// <summary>Commits a provisioned file (upsert: a re-run writes the same record).</summary>
    public async Task CommitFileAsync(ProjectFileDocument file, CancellationToken cancellationToken) =>
        await (await ContainerAsync(cancellationToken)).UpsertItemAsync(file, new PartitionKey(file.ProjectId), cancellationToken: cancellationToken);

    /// <summary>The project's committed files, by dataset then version.</summary>
    public async Task<IReadOnlyList<ProjectFileDocument>> FilesAsync(string projectId, CancellationToken cancellationToken) =>
        (await QueryAsync<ProjectFileDocument>(new QueryDefinition("SELECT * FROM c WHERE c.projectId = @p AND STARTSWITH(c.id, 'file-')").WithParameter("@p", projectId), projectId, cancellationToken))
            .OrderBy(f => f.DatasetId, StringComparer.Ordinal).ThenBy(f => f.Version).ToList();

    private async Task<List<T>> QueryAsync<T>(QueryDefinition query, string? projectId, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var list = new List<T>();
        using var it = container.GetItemQueryIterator<T>(query, requestOptions: projectId is null ? null : new QueryRequestOptions { PartitionKey = new PartitionKey(projectId) });
        while (it.HasMoreResults)
        {
            list.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return list;
    }

    private async Task<T?> ReadAsync<T>(string id, string projectId, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return (await (await ContainerAsync(cancellationToken)).ReadItemAsync<T>(id, new PartitionKey(projectId), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private Task<Container> ContainerAsync(CancellationToken cancellationToken) => database.ContainerAsync(ContainerId, "/projectId", cancellationToken);
}
