using SkiaSharp;
using static TorchSharp.torch;

namespace Scm.Images;

public enum ResizeFilter { Nearest, Bilinear }

/// <summary>Encodes sampled images ([-1, 1] floats) as PNG with SkiaSharp, optionally resized.</summary>
public static class PngEncoder
{
    /// <summary>Encodes every image of a CPU batch [B, C, H, W] (C = 1 grey, C = 3 RGB).</summary>
    public static byte[][] EncodeBatch(Tensor batch, int outputSize, ResizeFilter filter = ResizeFilter.Bilinear)
    {
        if (batch.dim() != 4 || batch.shape[1] is not (1 or 3))
            throw new ArgumentException($"Expected a [B, 1|3, H, W] batch, got [{string.Join(", ", batch.shape)}].", nameof(batch));
        byte[] all;
        // A scope, not just `using` on the result: each intermediate is a native tensor too, and left to the
        // finalizer they pile up on a worker that encodes batch after batch.
        using (NewDisposeScope())
        {
            var bytes = ((batch.to(float32) + 1) * 127.5f).round().clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
            all = bytes.data<byte>().ToArray();
        }
        int b = (int)batch.shape[0], c = (int)batch.shape[1], h = (int)batch.shape[2], w = (int)batch.shape[3];
        var result = new byte[b][];
        for (int i = 0; i < b; i++)
            result[i] = Encode(all.AsSpan(i * h * w * c, h * w * c), w, h, c, outputSize, filter);
        return result;
    }

    /// <summary>Encodes one HWC byte image (1 or 3 channels), resized to outputSize x outputSize.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels, int outputSize, ResizeFilter filter)
    {
        if (outputSize < 1 || outputSize > 4096)
            throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "outputSize must be in [1, 4096].");
        using var source = new SKBitmap(new SKImageInfo(width, height, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
        var target = source.GetPixelSpan();
        if (channels == 1) pixels.CopyTo(target);
        else
            for (int p = 0; p < width * height; p++)
            {
                target[4 * p] = pixels[3 * p];
                target[4 * p + 1] = pixels[3 * p + 1];
                target[4 * p + 2] = pixels[3 * p + 2];
                target[4 * p + 3] = 255;
            }
        SKBitmap toEncode = source;
        if (outputSize != width || outputSize != height)
        {
            var sampling = filter == ResizeFilter.Nearest ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear);
            toEncode = source.Resize(new SKImageInfo(outputSize, outputSize, source.ColorType, SKAlphaType.Opaque), sampling)
                       ?? throw new InvalidOperationException("SkiaSharp could not resize the image.");
        }
        try
        {
            using var data = toEncode.Encode(SKEncodedImageFormat.Png, 100);
            return data.ToArray();
        }
        finally
        {
            if (!ReferenceEquals(toEncode, source)) toEncode.Dispose();
        }
    }
}
