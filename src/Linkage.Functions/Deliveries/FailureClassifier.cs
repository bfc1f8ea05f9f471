using System.Net.Sockets;
using Azure;
using Linkage.Azure.Keys;
using Linkage.Functions.Processor;
using Linkage.Functions.Ttp;
using Microsoft.Azure.Cosmos;

namespace Linkage.Functions.Deliveries;

/// <summary>Sorts an attempt's exception into a <see cref="FailureClass"/>, which decides how long and how often to retry.</summary>
public static class FailureClassifier
{
    public static FailureClass Classify(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Classify(a.InnerExceptions[0]),
        // Each waits for something another party sends: the opt-out list, a study's lock, the snapshots (or File 1s) that
        // name a File 2's people or re-issue them under the File 2's TTP key version.
        NationalOptOutListMissingException or StudyLockBusyException or UnknownParticipantShareException or TokenKeyVersionMismatchException => FailureClass.Waiting,
        RequestFailedException r => Status(r.Status),
        CosmosException c => Status((int)c.StatusCode),
        KeyVaultException k => Status(k.Status),
        HttpRequestException h => h.StatusCode is { } code ? Status((int)code) : FailureClass.Transient,
        // A cancellation the host did not ask for (the activity filters those out) is a lost lease or a timed-out call.
        SocketException or IOException or TimeoutException or OperationCanceledException => FailureClass.Transient,
        UnauthorizedAccessException or Processor.ManifestKeyMissingException or Linkage.Ttp.ManifestRejectedException => FailureClass.Configuration,
        _ when e.InnerException is { } inner && Classify(inner) is not FailureClass.Unexpected and var c => c,
        _ => FailureClass.Unexpected,
    };

    /// <summary>
    /// What an operator may see of an exception: its type, with the service's status and error code for Azure
    /// exceptions and the message only for the app's own exceptions, whose messages never quote file content.
    /// Other messages are left out: a parser's message may quote the value it choked on.
    /// </summary>
    public static string Describe(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        RequestFailedException r => $"{e.GetType().Name}: {r.Status} {r.ErrorCode}",
        CosmosException c => $"{e.GetType().Name}: {(int)c.StatusCode} {c.SubStatusCode}",
        KeyVaultException k => $"{e.GetType().Name}: {k.Status} {k.ErrorCode}",
        HttpRequestException h => $"{e.GetType().Name}: {(int?)h.StatusCode} {h.HttpRequestError}",
        _ when e.GetType().Namespace?.StartsWith("Linkage", StringComparison.Ordinal) == true => $"{e.GetType().Name}: {Cut(e.Message.Split('\n', 2)[0].Trim())}",
        _ => e.GetType().Name,
    };

    private static string Cut(string s) => s.Length > 300 ? s[..300] + "…" : s;

    private static FailureClass Status(int status) => status switch
    {
        0 or 408 or 409 or 412 or 423 or 429 or 449 or 500 or 502 or 503 or 504 => FailureClass.Transient,
        401 or 403 => FailureClass.Configuration,
        _ => FailureClass.Unexpected,
    };
}
