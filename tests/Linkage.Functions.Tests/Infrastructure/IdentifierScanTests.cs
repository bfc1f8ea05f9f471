using System.IO.Compression;
using System.Text;
using Xunit.Sdk;

namespace Linkage.Functions.Tests.Infrastructure;

/// <summary>The leak scan itself catches an identifier in each spelling and wrapping it claims to.</summary>
public class IdentifierScanTests
{
    private readonly IdentifierScan _scan = new(["9434765919", "SMITH", "01/02/1970", "AB1 2CD"]);

    [Theory]
    [InlineData("x 9434765919 x")]
    [InlineData("nhs: 943 476 5919")]
    [InlineData("nhs: 943-476-5919")]
    [InlineData("{\"surname\":\"smith\"}")]
    [InlineData("dob 1970-02-01")]
    [InlineData("dob 01.02.1970")]
    [InlineData("postcode ab12cd")]
    public void Each_spelling_is_caught(string text) =>
        Assert.Throws<FailException>(() => _scan.AssertFree(text, "a test string"));

    [Fact]
    public void Clean_text_passes() => _scan.AssertFree("token 3fa9c0d1e2, study ALSPAC, 1970 births: 2", "clean text");

    [Fact]
    public void Gzip_content_is_unpacked_before_it_is_searched()
    {
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes("{\"input\":\"SMITH\"}"));
        }

        Assert.Throws<FailException>(() => _scan.AssertFree(IdentifierScan.BlobText(packed.ToArray()), "a gzip blob"));
    }
}
