using System.Text;
using Sylvan.Data.Csv;

namespace Linkage.File2;

/// <summary>
/// A plain parse-and-write copy of a CSV with the same reader, field writer and buffers as <see cref="File2Pipeline"/>:
/// the baseline the File 2 benchmark compares the full curation against.
/// </summary>
public static class CsvCopy
{
    public static async Task<long> CopyAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var text = new StreamReader(input, new UTF8Encoding(false, true), true, 1 << 16, leaveOpen: true);
        await using var reader = await CsvDataReader.CreateAsync(text, CsvReaderOptions.Strict(1 << 16, 1 << 20), cancellationToken);
        byte[] buffer = new byte[1 << 20];
        int used = Encoding.UTF8.GetBytes(string.Join(',', Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)) + "\n", buffer);
        long rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            int bound = 2;
            for (int i = 0; i < reader.RowFieldCount; i++)
            {
                bound += (reader.GetFieldSpan(i).Length * 6) + 3;
            }

            if (used + bound > buffer.Length)
            {
                await output.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
                used = 0;
                if (bound > buffer.Length)
                {
                    buffer = new byte[bound];
                }
            }

            for (int i = 0; i < reader.RowFieldCount; i++)
            {
                if (i > 0)
                {
                    buffer[used++] = (byte)',';
                }

                used += CsvField.Write(reader.GetFieldSpan(i), buffer.AsSpan(used));
            }

            buffer[used++] = (byte)'\n';
            rows++;
        }

        await output.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
        await output.FlushAsync(cancellationToken);
        return rows;
    }
}
