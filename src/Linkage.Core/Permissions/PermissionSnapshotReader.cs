using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Linkage.Permissions;

/// <summary>Reads a permission snapshot, checking its structure and its SHA-256 trailer before anyone can use it.</summary>
internal static class PermissionSnapshotReader
{
    public static async Task<PermissionSnapshot> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = new ChunkReader(source, hash);

        byte[] fixedHead = await reader.ReadExactlyAsync(8 + 2 + 1, cancellationToken);
        if (!fixedHead.AsSpan(0, 8).SequenceEqual(PermissionSnapshotFormat.Magic))
        {
            throw new PermissionSnapshotException("Not a permission snapshot: the file does not start with the LLCPSNAP magic.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(fixedHead.AsSpan(8));
        if (version != PermissionSnapshotFormat.Version)
        {
            throw new PermissionSnapshotException($"Permission snapshot format version {version} is not supported (this build reads version {PermissionSnapshotFormat.Version}).");
        }

        string study = Encoding.UTF8.GetString(await reader.ReadExactlyAsync(fixedHead[10], cancellationToken));
        byte[] mid = await reader.ReadExactlyAsync(4 + 1, cancellationToken);
        int file1Version = BinaryPrimitives.ReadInt32LittleEndian(mid);
        string keyVersion = Encoding.UTF8.GetString(await reader.ReadExactlyAsync(mid[4], cancellationToken));
        byte[] tail = await reader.ReadExactlyAsync(16, cancellationToken);
        var created = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(tail));
        long count = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(8));
        if (count < 0 || count > Array.MaxLength)
        {
            throw new PermissionSnapshotException("The permission snapshot header gives an impossible participant count.");
        }

        if (source.CanSeek)
        {
            long expected = (count * PermissionSnapshotFormat.EntryBytes) + PermissionSnapshotFormat.ChecksumBytes;
            long remaining = source.Length - source.Position + reader.Buffered;
            if (remaining != expected)
            {
                throw new PermissionSnapshotException("The permission snapshot is truncated or has trailing bytes (its length does not match its participant count).");
            }
        }

        var high = new ulong[count];
        var low = new ulong[count];
        var flags = new ushort[count];
        const int perChunk = 4096;
        for (long i = 0; i < count; i += perChunk)
        {
            int n = (int)Math.Min(perChunk, count - i);
            byte[] chunk = await reader.ReadExactlyAsync(n * PermissionSnapshotFormat.EntryBytes, cancellationToken);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<byte> e = chunk.AsSpan(j * PermissionSnapshotFormat.EntryBytes, PermissionSnapshotFormat.EntryBytes);
                long k = i + j;
                high[k] = BinaryPrimitives.ReadUInt64BigEndian(e);
                low[k] = BinaryPrimitives.ReadUInt64BigEndian(e[8..]);
                flags[k] = BinaryPrimitives.ReadUInt16LittleEndian(e[16..]);
                if (k > 0 && (high[k - 1] > high[k] || (high[k - 1] == high[k] && low[k - 1] >= low[k])))
                {
                    throw new PermissionSnapshotException($"Permission snapshot entries are not strictly sorted by token (entry {k + 1}).");
                }
            }
        }

        byte[] computed = hash.GetHashAndReset();
        byte[] stored = await reader.ReadUnhashedAsync(PermissionSnapshotFormat.ChecksumBytes, cancellationToken);
        if (!CryptographicOperations.FixedTimeEquals(computed, stored))
        {
            throw new PermissionSnapshotException("The permission snapshot checksum does not match: the file is corrupt or was altered.");
        }

        if (await reader.ReadUnhashedAsync(1, cancellationToken, allowEnd: true) is { Length: > 0 })
        {
            throw new PermissionSnapshotException("The permission snapshot has bytes after its checksum.");
        }

        return new PermissionSnapshot(new PermissionSnapshotHeader(study, file1Version, keyVersion, created), high, low, flags);
    }

    /// <summary>Reads exact byte counts from a stream through a 64 KiB buffer, hashing what it hands out.</summary>
    private sealed class ChunkReader(Stream source, IncrementalHash hash)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public int Buffered => _end - _start;

        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            byte[] result = await ReadUnhashedAsync(count, cancellationToken);
            hash.AppendData(result);
            return result;
        }

        public async Task<byte[]> ReadUnhashedAsync(int count, CancellationToken cancellationToken, bool allowEnd = false)
        {
            byte[] result = new byte[count];
            int got = 0;
            while (got < count)
            {
                if (_start == _end)
                {
                    _start = 0;
                    _end = await source.ReadAsync(_buffer, cancellationToken);
                    if (_end == 0)
                    {
                        if (allowEnd)
                        {
                            return result[..got];
                        }

                        throw new PermissionSnapshotException("The permission snapshot ends early: it is truncated.");
                    }
                }

                int n = Math.Min(count - got, _end - _start);
                Buffer.BlockCopy(_buffer, _start, result, got, n);
                _start += n;
                got += n;
            }

            return result;
        }
    }
}
