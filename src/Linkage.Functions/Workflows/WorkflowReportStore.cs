using System.Net;
using System.Text.Json;
using Linkage.Azure.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Workflows;

/// <summary>A finished workflow's report, kept after its history is purged (document id = instance id).</summary>
public sealed record WorkflowReportDocument
{
    public required string Id { get; init; }

    /// <summary>The orchestration's name (the partition key): reports of one kind list together.</summary>
    public required string Workflow { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    public required JsonElement Report { get; init; }
}

/// <summary>Workflow reports in Cosmos (container <c>workflow-reports</c>, partition <c>/workflow</c>). Names and counts only.</summary>
public sealed class WorkflowReportStore(CosmosDatabase database)
{
    public const string ContainerId = "workflow-reports";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    /// <summary>Stores the report (upsert: a re-run of the saving activity writes the same document).</summary>
    public async Task SaveAsync<T>(string workflow, string instanceId, DateTimeOffset completedAt, T report, CancellationToken cancellationToken)
    {
        var doc = new WorkflowReportDocument { Id = instanceId, Workflow = workflow, CompletedAt = completedAt, Report = JsonSerializer.SerializeToElement(report, Json) };
        await (await ContainerAsync(cancellationToken)).UpsertItemAsync(doc, new PartitionKey(workflow), cancellationToken: cancellationToken);
    }

    /// <summary>Stores the document only if none of that id exists; false when one does (nothing changed).</summary>
    public async Task<bool> CreateAsync<T>(string workflow, string id, DateTimeOffset at, T report, CancellationToken cancellationToken)
    {
        var doc = new WorkflowReportDocument { Id = id, Workflow = workflow, CompletedAt = at, Report = JsonSerializer.SerializeToElement(report, Json) };
        try
        {
            await (await ContainerAsync(cancellationToken)).CreateItemAsync(doc, new PartitionKey(workflow), cancellationToken: cancellationToken);
            return true;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public async Task<WorkflowReportDocument?> GetAsync(string workflow, string instanceId, CancellationToken cancellationToken)
    {
        try
        {
            return (await (await ContainerAsync(cancellationToken)).ReadItemAsync<WorkflowReportDocument>(instanceId, new PartitionKey(workflow), cancellationToken: cancellationToken)).Resource;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The reports of one workflow kind, newest first.</summary>
    public async Task<IReadOnlyList<WorkflowReportDocument>> ListAsync(string workflow, CancellationToken cancellationToken)
    {
        var container = await ContainerAsync(cancellationToken);
        var list = new List<WorkflowReportDocument>();
        using var it = container.GetItemQueryIterator<WorkflowReportDocument>(
            new QueryDefinition("SELECT * FROM c WHERE c.workflow = @w").WithParameter("@w", workflow), requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(workflow) });
        while (it.HasMoreResults)
        {
            list.AddRange(await it.ReadNextAsync(cancellationToken));
        }

        return list.OrderByDescending(r => r.CompletedAt).ToList();
    }

    private Task<Container> ContainerAsync(CancellationToken cancellationToken) => database.ContainerAsync(ContainerId, "/workflow", cancellationToken);
}
