using Sylvan.Data.Csv;

namespace Linkage;

/// <summary>
/// The one way this product reads a CSV with Sylvan: a header row, commas only (no delimiter guessing from the header),
/// and no comment lines. Sylvan's default treats a record starting with '#' as a comment and skips it, which would drop
/// a row silently (a free-text first column may well start with '#').
/// </summary>
public static class CsvReaderOptions
{
    public static CsvDataReaderOptions Strict(int bufferChars = 1 << 16, int maxRecordChars = 1 << 20) => new()
    {
        HasHeaders = true,
        Delimiter = ',',
        Comment = '\0',
        BufferSize = bufferChars,
        MaxBufferSize = Math.Max(bufferChars, maxRecordChars),
    };
}
