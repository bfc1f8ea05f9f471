using System.Buffers;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Linkage.Azure.Storage;

/// <summary>Chunk size and read-ahead of a <see cref="PrefetchingBlobReadStream"/>.</summary>
public sealed record BlobPrefetchOptions
{
    /// <summary>Bytes per ranged download.</summary>
    public int ChunkBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Ranged downloads in flight ahead of the reader. Memory is at most this many chunks plus the one being read.</summary>
    public int ChunksAhead { get; init; } = 4;
}

/// <summary>
/// A forward-only read stream over one version of a blob (pinned by its ETag) that keeps several ranged downloads in
/// flight ahead of the reader. The SDK's <c>OpenRead</c> stream fetches its next range only when the reader has drained
/// the last one, so download and processing take turns; here they overlap, and several ranges download at once, which
/// is what a storage account needs to give more than one connection's throughput. Every range is conditioned on the
/// ETag: if the blob is replaced mid-read, the read fails with the service's 412 instead of mixing two versions.
/// Buffers come from the shared pool and are cleared when returned, since they held the delivery's contents.
/// </summary>
public sealed class PrefetchingBlobReadStream : Stream
{
    private readonly BlobClient _blob;
    private readonly ETag _etag;
    private readonly BlobPrefetchOptions _options;
    private readonly long _length;
    private readonly Queue<Task<Chunk>> _ahead = new();
    private readonly CancellationTokenSource _stop = new();
    private long _nextOffset;
    private Chunk? _current;
    private int _currentPosition;
    private long _position;
    private bool _disposed;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failure;

    private PrefetchingBlobReadStream(BlobClient blob, ETag etag, long length, BlobPrefetchOptions options)
    {
        _blob = blob;
        _etag = etag;
        _length = length;
        _options = options;
    }

    /// <summary>Opens the blob version <paramref name="etag"/>; fails with the service's 412 (or 404) if it is no longer there.</summary>
    public static async Task<PrefetchingBlobReadStream> OpenAsync(BlobClient blob, ETag etag, BlobPrefetchOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new BlobPrefetchOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunksAhead, 1);
        var properties = await blob.GetPropertiesAsync(new BlobRequestConditions { IfMatch = etag }, cancellationToken);
        var stream = new PrefetchingBlobReadStream(blob, etag, properties.Value.ContentLength, options);
        stream.FillAhead();
        return stream;
    }

    public override bool CanRead => !_disposed;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _failure?.Throw();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_current is null || _currentPosition == _current.Length)
        {
            if (_current is not null)
            {
                ArrayPool<byte>.Shared.Return(_current.Buffer, clearArray: true);
                _current = null;
            }

            if (!_ahead.TryPeek(out var next))
            {
                return 0;
            }

            try
            {
                _current = await next.WaitAsync(cancellationToken);
                _ = _ahead.Dequeue();
            }
            catch (Exception e)
            {
                // That chunk is lost to this reader: every later read fails too, rather than going on after a gap, and
                // the read-ahead stops. The chunk's task stays queued, so disposing still waits for it and frees it.
                _failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                await _stop.CancelAsync();
                throw;
            }

            _currentPosition = 0;
            FillAhead();
        }

        int n = Math.Min(buffer.Length, _current.Length - _currentPosition);
        _current.Buffer.AsSpan(_currentPosition, n).CopyTo(buffer.Span);
        _currentPosition += n;
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        while (_ahead.TryDequeue(out var pending))
        {
            try
            {
                ArrayPool<byte>.Shared.Return((await pending).Buffer, clearArray: true);
            }
            catch (Exception)
            {
                // Cancelled or failed read-ahead of a stream nobody reads any more.
            }
        }

        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current.Buffer, clearArray: true);
            _current = null;
        }

        _stop.Dispose();
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

    private void FillAhead()
    {
        while (_ahead.Count < _options.ChunksAhead && _nextOffset < _length)
        {
            long offset = _nextOffset;
            int length = (int)Math.Min(_options.ChunkBytes, _length - offset);
            _nextOffset += length;
            _ahead.Enqueue(DownloadAsync(offset, length, _stop.Token));
        }
    }

    private async Task<Chunk> DownloadAsync(long offset, int length, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var response = await _blob.DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(offset, length), Conditions = new BlobRequestConditions { IfMatch = _etag } }, cancellationToken);
            await using var content = response.Value.Content;
            int filled = 0;
            while (filled < length)
            {
                int n = await content.ReadAsync(buffer.AsMemory(filled, length - filled), cancellationToken);
                if (n == 0)
                {
                    throw new IOException($"Blob {_blob.Name} ended at byte {offset + filled}, before the {_length} bytes its properties gave.");
                }

                filled += n;
            }

            return new Chunk(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            throw;
        }
    }

    private sealed record Chunk(byte[] Buffer, int Length);
}
