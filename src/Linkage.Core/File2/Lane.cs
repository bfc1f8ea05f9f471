namespace Linkage.File2;

/// <summary>One worker's scratch: the values a row's checks parse, its generalised values, key and digest buffers.</summary>
internal sealed class Lane(int columns)
{
    public readonly int[] Year = new int[columns];
    public readonly int[] Month = new int[columns];
    public readonly long[] Integer = new long[columns];
    public readonly int[] Code = new int[columns];
    public readonly char[][] Generalised = Enumerable.Range(0, columns).Select(_ => new char[64]).ToArray(); // "lo-hi" of two longs fits in 41
    public readonly int[] GeneralisedLength = new int[columns];
    public readonly char[] DateScratch = new char[16];
    public char[] KeyScratch = new char[256];
    public byte[] HiddenScratch = new byte[1024];

    /// <summary>The batch and row being worked on, and the batch's counts.</summary>
    public RowBatch Rows = null!;
    public int Row;
    public BatchCounts Counts = null!;

    public ReadOnlySpan<char> Field(int ordinal) => Rows.Field(Row, ordinal);
}
