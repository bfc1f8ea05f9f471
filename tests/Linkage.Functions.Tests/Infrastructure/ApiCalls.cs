using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>Calls to the app's HTTP API as a bearer of a token (or none), for the API tests.</summary>
internal static class ApiCalls
{
    public static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string url, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http.SendAsync(request);
    }

    /// <summary>A GET that must answer 200; its JSON.</summary>
    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string url, string token)
    {
        var response = await SendAsync(http, HttpMethod.Get, url, token);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
