using Scm.Images;
using SkiaSharp;
using static TorchSharp.torch;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class PngEncoderTests
{
    static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>[-1, 1] values whose byte values (v + 1) * 127.5 are 0, 1, ..., spread over all 256 levels.</summary>
    static Tensor Ramp(int channels, int size)
    {
        int n = channels * size * size;
        var values = Enumerable.Range(0, n).Select(i => (float)((i * 37 % 256) / 127.5 - 1)).ToArray();
        return tensor(values, [1, channels, size, size]);
    }

    static byte ExpectedByte(Tensor image, int c, int y, int x) =>
        (byte)Math.Clamp(Math.Round((image[0, c, y, x].item<float>() + 1) * 127.5), 0, 255);

    static SKBitmap Decode(byte[] png)
    {
        Assert.Equal(PngSignature, png[..8]);
        return SKBitmap.Decode(png) ?? throw new InvalidOperationException("not a PNG SkiaSharp can read");
    }

    [Fact]
    public void Grey_images_decode_to_the_same_pixels()
    {
        using var image = Ramp(1, 16);
        var png = PngEncoder.EncodeBatch(image, 16)[0];
        using var decoded = Decode(png);
        Assert.Equal((16, 16), (decoded.Width, decoded.Height));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                var pixel = decoded.GetPixel(x, y);
                byte expected = ExpectedByte(image, 0, y, x);
                Assert.Equal((expected, expected, expected), (pixel.Red, pixel.Green, pixel.Blue));
            }
    }

    [Fact]
    public void Rgb_images_decode_to_the_same_pixels()
    {
        using var image = Ramp(3, 12);
        using var decoded = Decode(PngEncoder.EncodeBatch(image, 12)[0]);
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++)
            {
                var pixel = decoded.GetPixel(x, y);
                Assert.Equal((ExpectedByte(image, 0, y, x), ExpectedByte(image, 1, y, x), ExpectedByte(image, 2, y, x), (byte)255),
                    (pixel.Red, pixel.Green, pixel.Blue, pixel.Alpha));
            }
    }

    [Fact]
    public void Values_outside_minus_one_one_clamp_to_black_and_white()
    {
        using var image = tensor(new float[] { -3, -1, 1, 7 }, [1, 1, 2, 2]);
        using var decoded = Decode(PngEncoder.EncodeBatch(image, 2)[0]);
        Assert.Equal([0, 0, 255, 255], new[] { decoded.GetPixel(0, 0), decoded.GetPixel(1, 0), decoded.GetPixel(0, 1), decoded.GetPixel(1, 1) }.Select(p => (int)p.Red));
    }

    [Theory]
    [InlineData(ResizeFilter.Nearest, 1, 24)]
    [InlineData(ResizeFilter.Bilinear, 1, 24)]
    [InlineData(ResizeFilter.Nearest, 3, 5)]
    [InlineData(ResizeFilter.Bilinear, 3, 64)]
    public void Resizing_gives_the_requested_size(ResizeFilter filter, int channels, int outputSize)
    {
        using var image = Ramp(channels, 8);
        using var decoded = Decode(PngEncoder.EncodeBatch(image, outputSize, filter)[0]);
        Assert.Equal((outputSize, outputSize), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Nearest_upscaling_by_an_integer_factor_repeats_each_source_pixel()
    {
        using var image = Ramp(1, 4);
        using var decoded = Decode(PngEncoder.EncodeBatch(image, 12, ResizeFilter.Nearest)[0]);
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++)
                Assert.Equal(ExpectedByte(image, 0, y / 3, x / 3), decoded.GetPixel(x, y).Red);
    }

    [Fact]
    public void Bilinear_resizing_interpolates_within_the_source_range()
    {
        // A constant image stays constant; a two-level image only takes values between its two levels.
        using var flat = full(1, 1, 4, 4, 0.2f);
        using var flatDecoded = Decode(PngEncoder.EncodeBatch(flat, 10, ResizeFilter.Bilinear)[0]);
        byte level = (byte)Math.Round(1.2 * 127.5);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(level, flatDecoded.GetPixel(i % 10, i / 10).Red));

        using var halves = cat([full(1, 1, 8, 4, -1f), full(1, 1, 8, 4, 1f)], dim: 3);
        using var decoded = Decode(PngEncoder.EncodeBatch(halves, 16, ResizeFilter.Bilinear)[0]);
        var row = Enumerable.Range(0, 16).Select(x => (int)decoded.GetPixel(x, 8).Red).ToArray();
        Assert.Equal(0, row[0]);
        Assert.Equal(255, row[15]);
        Assert.True(row.Zip(row.Skip(1)).All(p => p.Second >= p.First), "a step edge stays monotone");
        Assert.Contains(row, v => v is > 0 and < 255); // interpolated, unlike nearest
    }

    [Fact]
    public void A_batch_gives_one_png_per_image_in_order()
    {
        using var batch = cat([full(1, 1, 4, 4, -1f), full(1, 1, 4, 4, 0f), full(1, 1, 4, 4, 1f)], dim: 0);
        var pngs = PngEncoder.EncodeBatch(batch, 4);
        Assert.Equal(3, pngs.Length);
        Assert.Equal([0, 128, 255], pngs.Select(p => { using var b = Decode(p); return (int)b.GetPixel(2, 2).Red; }));
    }

    [Theory]
    [InlineData(8)] // no resize: the pixel steps run on a copy
    [InlineData(16)] // resized: they run on interpolate's output
    public void Encoding_leaves_the_callers_images_unchanged(int outputSize)
    {
        using var image = Ramp(1, 8);
        using var before = image.clone();
        PngEncoder.EncodeBatch(image, outputSize);
        Assert.Equal(before.data<float>().ToArray(), image.data<float>().ToArray());
    }

    [Fact]
    public void Bad_shapes_and_sizes_are_rejected()
    {
        using var twoChannels = zeros(1, 2, 4, 4);
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeBatch(twoChannels, 4));
        using var threeDims = zeros(1, 4, 4);
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeBatch(threeDims, 4));
        using var image = zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.EncodeBatch(image, 0));
    }
}
