using Linkage.Functions.Hosting;
using Microsoft.Extensions.Options;

namespace Linkage.LocalHost;

/// <summary>
/// The storage account of the local stack, for the parts of the local host that need its connection string (the Durable
/// Task backend). Trigger connections named <c>DataStorage</c> use the app's own clients.
/// </summary>
public sealed class StorageConnection(IOptions<StorageOptions> options)
{
    public string ConnectionString => options.Value.ConnectionString is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException("The local host needs DataStorage:ConnectionString (the local stack's Azurite connection string).");
}
