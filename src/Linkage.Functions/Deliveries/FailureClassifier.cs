using System.Net.Sockets;
using Azure;
using Linkage.Azure.Keys;
using Linkage.Functions.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Deliveries;

/// <summary>Sorts an attempt's exception into a <see cref="FailureClass"/>, which decides how long and how often to retry.</summary>
public static class FailureClassifier
{
    public static FailureClass Classify(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Classify(a.InnerExceptions[0]),
        NationalOptOutListMissingException or StudyLockBusyException => FailureClass.Waiting,
        RequestFailedException r => Status(r.Status),
        CosmosException c => Status((int)c.StatusCode),
        KeyVaultException k => Status(k.Status),
        HttpRequestException h => h.StatusCode is { } code ? Status((int)code) : FailureClass.Transient,
        SocketException or IOException or TimeoutException or TaskCanceledException => FailureClass.Transient,
        UnauthorizedAccessException => FailureClass.Configuration,
        _ when e.InnerException is { } inner && Classify(inner) is not FailureClass.Unexpected and var c => c,
        _ => FailureClass.Unexpected,
    };

    /// <summary>Exception type and the first line of its message, cut to 300 characters: enough for an operator, no payloads.</summary>
    public static string Describe(Exception e)
    {
        string first = e.Message.Split('\n', 2)[0].Trim();
        return $"{e.GetType().Name}: {(first.Length > 300 ? first[..300] + "…" : first)}";
    }

    private static FailureClass Status(int status) => status switch
    {
        0 or 408 or 409 or 412 or 423 or 429 or 449 or 500 or 502 or 503 or 504 => FailureClass.Transient,
        401 or 403 => FailureClass.Configuration,
        _ => FailureClass.Unexpected,
    };
}
