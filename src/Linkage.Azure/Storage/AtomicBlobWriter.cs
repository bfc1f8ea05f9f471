using System.Buffers;
using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Linkage.Azure.Storage;

/// <summary>
/// A write-only stream to a block blob that becomes visible only when <see cref="CommitAsync"/> runs: blocks are staged
/// as the stream fills, and the block list is committed in one call. A crash or an exception before the commit leaves
/// the previous version (or nothing) visible, never a half-written file; staged blocks that are never committed are
/// discarded by the service after a week.
/// </summary>
/// <remarks>
/// Up to <paramref name="parallelStages"/> blocks upload at once while the writer fills the next one, so the upload
/// overlaps the producer and uses several connections (one at a time was the bound of every output through Azurite).
/// Memory is at most <paramref name="parallelStages"/> + 1 block buffers. A failed stage surfaces on a later write or on
/// the commit, so the blob is never committed without it.
/// </remarks>
/// <param name="computeSha256">Hash the content as it is staged, for <see cref="Sha256"/> (manifests name files by hash).</param>
public sealed class AtomicBlobWriter(BlockBlobClient blob, int blockSize = 4 * 1024 * 1024, int parallelStages = 4, bool computeSha256 = false) : Stream
{
    private readonly IncrementalHash? _sha256 = computeSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    private string? _sha256Hex;
    private readonly List<string> _blockIds = [];
    private readonly Queue<Task> _staging = new();
    private readonly string _prefix = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    private byte[]? _buffer;
    private int _used;
    private long _length;
    private bool _committed;
    private bool _disposed;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failure;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_committed && !_disposed;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <summary>Lower-case hex SHA-256 of the committed content (only when constructed with <c>computeSha256</c>).</summary>
    public string Sha256 => _sha256Hex ?? throw new InvalidOperationException("The SHA-256 is known once the blob is committed, and only when computeSha256 was set.");

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_committed || _disposed, this);
        _failure?.Throw();
        while (!buffer.IsEmpty)
        {
            _buffer ??= ArrayPool<byte>.Shared.Rent(blockSize);
            int n = Math.Min(buffer.Length, blockSize - _used);
            buffer.Span[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            _length += n;
            buffer = buffer[n..];
            if (_used == blockSize)
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

    /// <summary>Stages what is buffered, waits for every staged block, and commits the block list: the blob now has exactly what was written.</summary>
    public async Task<BlobContentInfo> CommitAsync(BlobHttpHeaders? headers = null, IDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_committed || _disposed, this);
        _failure?.Throw();
        if (_used > 0)
        {
            await StageAsync(cancellationToken);
        }

        while (_staging.TryDequeue(out var stage))
        {
            await Observe(stage);
        }

        var result = await blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions { HttpHeaders = headers, Metadata = metadata }, cancellationToken);
        _committed = true;
        if (_sha256 is not null)
        {
            _sha256Hex = Convert.ToHexStringLower(_sha256.GetHashAndReset());
        }

        return result.Value;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        while (_staging.TryDequeue(out var stage))
        {
            try
            {
                await stage;
            }
            catch (Exception)
            {
                // Not committed, so nothing is visible; the service discards uncommitted blocks.
            }
        }

        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer, clearArray: true);
            _buffer = null;
        }

        _sha256?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        string id = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{_prefix}-{_blockIds.Count:D8}"));
        _blockIds.Add(id);
        _sha256?.AppendData(_buffer!, 0, _used); // blocks are staged in order, so this is the content's hash
        _staging.Enqueue(StageBlockAsync(id, _buffer!, _used, cancellationToken));
        _buffer = null;
        _used = 0;
        if (_staging.Count >= Math.Max(1, parallelStages))
        {
            await Observe(_staging.Dequeue());
        }
    }

    /// <summary>Awaits a stage; its failure is kept, so every later write or commit fails too (the block list has a hole).</summary>
    private async Task Observe(Task stage)
    {
        try
        {
            await stage;
        }
        catch (Exception e)
        {
            _failure ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            throw;
        }
    }

    private async Task StageBlockAsync(string id, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            using var chunk = new MemoryStream(buffer, 0, length, writable: false);
            await blob.StageBlockAsync(id, chunk, cancellationToken: cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held output rows
        }
    }
}
