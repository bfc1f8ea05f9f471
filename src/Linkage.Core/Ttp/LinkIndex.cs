using System.Buffers.Binary;
using Linkage.Permissions;

namespace Linkage.Ttp;

/// <summary>
/// One study's cross-study link index: (keyed hash of NHS number + date of birth, TTP token), sorted by hash.
/// 32 bytes a participant; it holds no identifier, only HMAC outputs under the TTP link key.
/// Two studies' indexes are merge-joined to find the same person in both.
/// </summary>
public sealed class LinkIndex
{
    private static ReadOnlySpan<byte> Magic => "LLCLINK1"u8;

    private readonly UInt128[] _keys;
    private readonly TokenBytes[] _tokens;

    private LinkIndex(string study, UInt128[] keys, TokenBytes[] tokens)
    {
        Study = study;
        _keys = keys;
        _tokens = tokens;
    }

    public string Study { get; }

    public int Count => _keys.Length;

    /// <summary>Whether someone of this study has <paramref name="key"/>.</summary>
    public bool Contains(UInt128 key) => Array.BinarySearch(_keys, key) >= 0;

    public static LinkIndex From(string study, IEnumerable<Participant> participants)
    {
        var pairs = participants.Where(p => p.LinkKey is not null).Select(p => (Key: p.LinkKey!.Value, p.Token)).OrderBy(x => x.Key).ThenBy(x => x.Token).ToArray();
        return new LinkIndex(study, pairs.Select(p => p.Key).ToArray(), pairs.Select(p => p.Token).ToArray());
    }

    /// <summary>Participants of this study and <paramref name="other"/> with the same link key.</summary>
    public IEnumerable<(UInt128 Key, TokenBytes Mine, TokenBytes Theirs)> Join(LinkIndex other)
    {
        int i = 0, j = 0;
        while (i < _keys.Length && j < other._keys.Length)
        {
            int c = _keys[i].CompareTo(other._keys[j]);
            if (c < 0)
            {
                i++;
            }
            else if (c > 0)
            {
                j++;
            }
            else
            {
                yield return (_keys[i], _tokens[i], other._tokens[j]);
                i++;
                j++;
            }
        }
    }

    /// <summary>(key, token) pairs of this index that <paramref name="newer"/> no longer has: a person gone from the study's
    /// current rows, or whose NHS number or date of birth changed.</summary>
    public IEnumerable<(UInt128 Key, TokenBytes Token)> Except(LinkIndex newer)
    {
        int i = 0, j = 0;
        while (i < _keys.Length)
        {
            int c = j < newer._keys.Length ? _keys[i].CompareTo(newer._keys[j]) : -1;
            if (c == 0)
            {
                c = _tokens[i].CompareTo(newer._tokens[j]);
            }

            if (c < 0)
            {
                yield return (_keys[i], _tokens[i]);
                i++;
            }
            else if (c > 0)
            {
                j++;
            }
            else
            {
                i++;
                j++;
            }
        }
    }

    public async Task WriteAsync(Stream destination, CancellationToken cancellationToken)
    {
        byte[] header = new byte[16];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), _keys.Length);
        await destination.WriteAsync(header, cancellationToken);
        byte[] buffer = new byte[32 * 2048];
        int used = 0;
        for (int k = 0; k < _keys.Length; k++)
        {
            var span = buffer.AsSpan(used, 32);
            BinaryPrimitives.WriteUInt128BigEndian(span, _keys[k]);
            _tokens[k].WriteBytes(span[16..]);
            used += 32;
            if (used == buffer.Length)
            {
                await destination.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
                used = 0;
            }
        }

        await destination.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
    }

    public static async Task<LinkIndex> ReadAsync(string study, Stream source, CancellationToken cancellationToken)
    {
        source = new BufferedStream(source, 64 * 1024);
        byte[] header = new byte[16];
        await source.ReadExactlyAsync(header, cancellationToken);
        if (!header.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"The link index of {study} is not in the expected format.");
        }

        long count = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
        var keys = new UInt128[count];
        var tokens = new TokenBytes[count];
        byte[] entry = new byte[32];
        for (long k = 0; k < count; k++)
        {
            await source.ReadExactlyAsync(entry, cancellationToken);
            keys[k] = BinaryPrimitives.ReadUInt128BigEndian(entry);
            tokens[k] = TokenBytes.FromBytes(entry.AsSpan(16));
        }

        return new LinkIndex(study, keys, tokens);
    }
}
