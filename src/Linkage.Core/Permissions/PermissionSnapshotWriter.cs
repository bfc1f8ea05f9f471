using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Linkage.Permissions;

/// <summary>
/// Collects one study's participants (TTP token → flags) and writes them as a permission snapshot: header, entries
/// sorted by token, SHA-256 trailer. Holds 18 bytes per participant; writes in 64 KiB chunks, never the whole file.
/// </summary>
public sealed class PermissionSnapshotWriter(PermissionSnapshotHeader header)
{
    private ulong[] _high = new ulong[1024];
    private ulong[] _low = new ulong[1024];
    private ushort[] _flags = new ushort[1024];
    private int _count;

    public int Count => _count;

    /// <summary>Adds a participant by their 22-char TTP token.</summary>
    public void Add(ReadOnlySpan<char> ttpToken, PermissionFlags flags)
    {
        if (!TokenBytes.TryParse(ttpToken, out var token))
        {
            throw new PermissionSnapshotException($"Participant {_count + 1} has a malformed TTP token (expected 22 URL-safe base64 characters).");
        }

        Add(token, flags);
    }

    public void Add(TokenBytes token, PermissionFlags flags)
    {
        if (_count == _high.Length)
        {
            Array.Resize(ref _high, _count * 2);
            Array.Resize(ref _low, _count * 2);
            Array.Resize(ref _flags, _count * 2);
        }

        _high[_count] = token.High;
        _low[_count] = token.Low;
        _flags[_count] = (ushort)flags;
        _count++;
    }

    /// <summary>Sorts the entries and writes the snapshot. Throws when a token was added twice.</summary>
    public async Task WriteAsync(Stream destination, CancellationToken cancellationToken)
    {
        int[] order = SortedOrder();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[64 * 1024];
        int used = WriteHeader(buffer);
        for (int k = 0; k < _count; k++)
        {
            int i = order[k];
            if (k > 0)
            {
                int p = order[k - 1];
                if (_high[p] == _high[i] && _low[p] == _low[i])
                {
                    throw new PermissionSnapshotException($"The same TTP token was added twice (entries {p + 1} and {i + 1}); each participant must appear once.");
                }
            }

            if (used + PermissionSnapshotFormat.EntryBytes > buffer.Length)
            {
                hash.AppendData(buffer, 0, used);
                await destination.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
                used = 0;
            }

            Span<byte> entry = buffer.AsSpan(used, PermissionSnapshotFormat.EntryBytes);
            BinaryPrimitives.WriteUInt64BigEndian(entry, _high[i]);
            BinaryPrimitives.WriteUInt64BigEndian(entry[8..], _low[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[16..], _flags[i]);
            used += PermissionSnapshotFormat.EntryBytes;
        }

        hash.AppendData(buffer, 0, used);
        await destination.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
        await destination.WriteAsync(hash.GetHashAndReset(), cancellationToken);
        await destination.FlushAsync(cancellationToken);
    }

    private int[] SortedOrder()
    {
        int[] order = new int[_count];
        for (int i = 0; i < _count; i++)
        {
            order[i] = i;
        }

        var keys = new TokenBytes[_count];
        for (int i = 0; i < _count; i++)
        {
            keys[i] = new TokenBytes(_high[i], _low[i]);
        }

        Array.Sort(keys, order);
        return order;
    }

    private int WriteHeader(Span<byte> buffer)
    {
        int at = 0;
        PermissionSnapshotFormat.Magic.CopyTo(buffer);
        at += PermissionSnapshotFormat.Magic.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[at..], PermissionSnapshotFormat.Version);
        at += 2;
        at += WriteText(buffer[at..], header.StudyCode, "study code");
        BinaryPrimitives.WriteInt32LittleEndian(buffer[at..], header.File1Version);
        at += 4;
        at += WriteText(buffer[at..], header.TokenKeyVersion, "token key version");
        BinaryPrimitives.WriteInt64LittleEndian(buffer[at..], header.Created.ToUnixTimeMilliseconds());
        at += 8;
        BinaryPrimitives.WriteInt64LittleEndian(buffer[at..], _count);
        at += 8;
        return at;
    }

    private static int WriteText(Span<byte> buffer, string text, string what)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        if (n is 0 or > PermissionSnapshotFormat.MaxTextBytes)
        {
            throw new PermissionSnapshotException($"The {what} must be 1 to {PermissionSnapshotFormat.MaxTextBytes} UTF-8 bytes.");
        }

        buffer[0] = (byte)n;
        Encoding.UTF8.GetBytes(text, buffer[1..]);
        return n + 1;
    }
}
