using System.Globalization;
using System.Text;
using Linkage.File2;

namespace Linkage.Core.Tests.File2;

/// <summary>
/// The final write-out fills one buffer while the previous one is still being written (decision 0509). A stream whose
/// writes complete later than they are started, like a blob upload, must get exactly the bytes a synchronous one gets.
/// </summary>
public sealed class File2AsyncOutputTests : IDisposable
{
    private readonly File2World _world = new();

    public void Dispose() => _world.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_slow_asynchronous_output_gets_the_same_bytes_as_a_memory_stream(bool spill)
    {
        var tokens = _world.AddPermitted(300);
        var sb = new StringBuilder("cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt\n");
        var random = new Random(5);
        for (int i = 0; i < 60_000; i++)
        {
            string date = new DateOnly(2000, 1, 1).AddDays(random.Next(9000)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{tokens[random.Next(tokens.Count)]},{date},E01{random.Next(3000):D6},GDPPR,{date}\n");
        }

        byte[] csv = Encoding.UTF8.GetBytes(sb.ToString());
        var spec = File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        var options = new File2PipelineOptions
        {
            IndexEntriesInMemory = spill ? 1024 : null,
            StageBytesInMemory = spill ? 1 << 20 : null,
        };

        using var plain = new MemoryStream();
        var expected = await new File2Pipeline(spec, _world.Permissions, _world.IdCipher, _world.GeoCipher, options)
            .RunAsync(new MemoryStream(csv), plain, CancellationToken.None);
        using var slow = new LateWriteStream();
        var actual = await new File2Pipeline(spec, _world.Permissions, _world.IdCipher, _world.GeoCipher, options)
            .RunAsync(new MemoryStream(csv), slow, CancellationToken.None);

        Assert.True(expected.Succeeded && actual.Succeeded);
        Assert.True(plain.Length > 3 << 20, "the output spans several write buffers");
        Assert.True(slow.WritesStillRunningWhenStarted == 0, "one write at a time");
        Assert.True(slow.Writes >= 3);
        Assert.Equal(plain.ToArray(), slow.Inner.ToArray());
        Assert.Equal(expected.Counts.RowsWritten, actual.Counts.RowsWritten);
    }

    public static TheoryData<string, File2Outcome?> Deliveries => new()
    {
        { "good", null },
        { "bad rows", File2Outcome.TooManyBadRows },
        { "header", File2Outcome.HeaderMismatch },
        { "identifier column", File2Outcome.IdentifierColumn },
        { "identifier after the sample", File2Outcome.IdentifierColumn },
    };

    [Theory]
    [MemberData(nameof(Deliveries))]
    public async Task A_rejected_file_writes_not_one_byte_to_the_output_it_was_given(string delivery, File2Outcome? rejectedAs)
    {
        const string header = "cohortkey_e,record_date,lsoa11cd,origin,avail_from_dt\n";
        string row = $"{_world.Permitted},2020-03-04,E01000001,HES APC,2021-01-01\n";
        string csv = delivery switch
        {
            "good" => header + row + row,
            "bad rows" => header + row + $"{_world.Permitted},2020-02-30,E01000001,HES APC,2021-01-01\n",
            "header" => "cohortkey_e,record_date,lsoa11cd\n" + row,
            _ => header + string.Concat(Enumerable.Range(0, 400).Select(i => $"{_world.Permitted},2020-03-04,E01000001,HES APC,{(i >= 200 ? "4010232137" : "x")}\n")),
        };

        // For the identifier cases, a spec that (wrongly) keeps a free-text column, which the delivery fills with NHS numbers.
        var spec = delivery.StartsWith("identifier", StringComparison.Ordinal)
            ? File2World.SpecKeepingFreeText()
            : File2World.ShippedSpec("nhse_lsoa11_dataset_mapping");
        var options = new File2PipelineOptions { IdentifierSampleRows = delivery == "identifier column" ? 1000 : 100 };
        var pipeline = new File2Pipeline(spec, _world.Permissions, _world.IdCipher, _world.GeoCipher, options);
        using var output = new LateWriteStream();

        var result = await pipeline.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), output, CancellationToken.None);

        Assert.Equal(rejectedAs ?? File2Outcome.Curated, result.Outcome);
        Assert.Equal(rejectedAs is null, output.Writes > 0);
        Assert.Equal(rejectedAs is null ? 2 : 0, output.Inner.ToArray().Count(b => b == (byte)'\n')); // header and one row (the duplicate removed), or nothing
    }

    /// <summary>Copies a write's bytes only after yielding and a short delay, as a network stream might.</summary>
    private sealed class LateWriteStream : Stream
    {
        private int _running;

        public MemoryStream Inner { get; } = new();

        public int Writes { get; private set; }

        public int WritesStillRunningWhenStarted { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Inner.Length;

        public override long Position { get => Inner.Position; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _running) > 1)
            {
                WritesStillRunningWhenStarted++;
            }

            Writes++;
            await Task.Delay(5, cancellationToken);
            Inner.Write(buffer.Span);
            Interlocked.Decrement(ref _running);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes++;
            Inner.Write(buffer, offset, count);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
