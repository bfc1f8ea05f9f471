using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Linkage.Azure.Storage;

/// <summary>
/// A write-only stream to a block blob that becomes visible only when <see cref="CommitAsync"/> runs: blocks are staged
/// as the stream fills (bounded memory: one block buffer), and the block list is committed in one call. A crash or an
/// exception before the commit leaves the previous version (or nothing) visible, never a half-written file; staged
/// blocks that are never committed are discarded by the service after a week.
/// </summary>
public sealed class AtomicBlobWriter(BlockBlobClient blob, int blockSize = 4 * 1024 * 1024) : Stream
{
    private readonly byte[] _buffer = new byte[blockSize];
    private readonly List<string> _blockIds = [];
    private readonly string _prefix = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    private int _used;
    private long _length;
    private bool _committed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_committed;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, _buffer.Length - _used);
            buffer.Span[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            _length += n;
            buffer = buffer[n..];
            if (_used == _buffer.Length)
            {
                await StageAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
        // Nothing becomes visible before CommitAsync.
    }

    /// <summary>Stages what is buffered and commits the block list: the blob now has exactly what was written.</summary>
    public async Task<BlobContentInfo> CommitAsync(BlobHttpHeaders? headers = null, IDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        if (_used > 0)
        {
            await StageAsync(cancellationToken);
        }

        var result = await blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions { HttpHeaders = headers, Metadata = metadata }, cancellationToken);
        _committed = true;
        return result.Value;
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        string id = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{_prefix}-{_blockIds.Count:D8}"));
        using (var chunk = new MemoryStream(_buffer, 0, _used, writable: false))
        {
            await blob.StageBlockAsync(id, chunk, cancellationToken: cancellationToken);
        }

        _blockIds.Add(id);
        _used = 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
