using System.Collections.Concurrent;

namespace Linkage.File2;

/// <summary>
/// The dedup store's 1 MiB staging chunks, kept between runs. A new chunk is fresh memory from the OS: writing it the
/// first time costs 256 page faults, ≈ 40 ms of CPU per million staged rows (measured: the pipeline's second-largest
/// cost after parsing). A function app curates one delivery after another, so the next run writes into pages that
/// are already there. At most <see cref="MaxChunks"/> are kept (128 MiB, the default budget's staging share);
/// the rest go back to the GC. Chunks are not cleared: the store reads a chunk only up to what this run wrote in it.
/// </summary>
internal static class StageChunkPool
{
    public const int ChunkBytes = 1 << 20;

    public const int MaxChunks = 128;

    private static readonly ConcurrentStack<byte[]> Free = new();

    public static byte[] Rent() => Free.TryPop(out var chunk) ? chunk : GC.AllocateUninitializedArray<byte>(ChunkBytes);

    public static void Return(byte[] chunk)
    {
        // Count is O(n) on a ConcurrentStack, but n ≤ 128 and this runs once per MiB staged.
        if (chunk.Length == ChunkBytes && Free.Count < MaxChunks)
        {
            Free.Push(chunk);
        }
    }
}
