using Azure;
using Azure.Storage.Blobs;
using Linkage.Ttp;
using Microsoft.Extensions.Options;

namespace Linkage.Functions.Ttp;

/// <summary>The national opt-out list, or why it cannot be used (then no File 1 with s251 participants proceeds).</summary>
public sealed record OptOutListState(NationalOptOutList? List, string? Unusable);

/// <summary>
/// Reads the national data opt-out list from <c>ttp-config</c>, failing closed: a malformed line, an empty list or one
/// older than <see cref="File1IntakeOptions.NationalOptOutMaxAgeDays"/> makes it unusable, so nobody on it can reach
/// NHS England through a stale or broken upload.
/// </summary>
public sealed class NationalOptOutSource(BlobServiceClient blobs, IOptions<File1IntakeOptions> options, TimeProvider time)
{
    public async Task<OptOutListState> LoadAsync(CancellationToken cancellationToken)
    {
        string where = $"{TtpStorage.Config}/{TtpStorage.NationalOptOutBlob}";
        var blob = blobs.GetBlobContainerClient(TtpStorage.Config).GetBlobClient(TtpStorage.NationalOptOutBlob);
        try
        {
            await using var s = await blob.OpenReadAsync(cancellationToken: cancellationToken);
            var age = time.GetUtcNow() - (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.LastModified;
            double maxDays = options.Value.NationalOptOutMaxAgeDays;
            if (age > TimeSpan.FromDays(maxDays))
            {
                return new(null, $"the national opt-out list at {where} was uploaded {age.TotalDays:F0} days ago, more than the {maxDays:F0} days allowed (File1:NationalOptOutMaxAgeDays); upload the current list from NHS England");
            }

            var list = await NationalOptOutList.ReadAsync(s, cancellationToken);
            return list.Count == 0
                ? new(null, $"the national opt-out list at {where} is empty, which the real list never is; upload the current list from NHS England")
                : new(list, null);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return new(null, $"there is no national opt-out list at {where}; upload the current list from NHS England");
        }
        catch (NationalOptOutListInvalidException e)
        {
            return new(null, $"{e.Message} (at {where})");
        }
    }
}
