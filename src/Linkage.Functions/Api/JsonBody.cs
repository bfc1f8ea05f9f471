using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Linkage.Functions.Api;

/// <summary>Reads a request's JSON body (camelCase, as every answer is written): the value, or null when it is not JSON of that shape.</summary>
public static class JsonBody
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Json, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
