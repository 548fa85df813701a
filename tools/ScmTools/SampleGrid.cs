using SkiaSharp;
using static TorchSharp.torch;

namespace ScmTools;

/// <summary>
/// A PNG of digits to look at next to the numbers: panels side by side (e.g. real digits, the teacher, sCM 2-step,
/// sCM 1-step), each one row per class and <see cref="Columns"/> digits per row, white gaps between panels.
/// </summary>
public static class SampleGrid
{
    public const int Columns = 8;
    const int Gap = 8;
    const int Scale = 2; // 32-px digits drawn at 64 px, nearest neighbour: the pixels as sampled

    /// <summary>The indices of the first <see cref="Columns"/> digits of each class in a class-major batch of <paramref name="perClass"/> per class.</summary>
    public static long[] FirstOfEachClass(int classes, int perClass) =>
        Enumerable.Range(0, classes).SelectMany(c => Enumerable.Range(0, Math.Min(Columns, perClass)).Select(j => (long)(c * perClass + j))).ToArray();

    /// <summary>Writes the panels ([classes * n, 1, H, W] in [-1, 1], class-major, n &lt;= <see cref="Columns"/>) as one grey PNG.</summary>
    public static void Save(string path, IReadOnlyList<Tensor> panels, int classes)
    {
        if (panels.Count == 0) throw new ArgumentException("No panels to draw.", nameof(panels));
        long size = panels[0].shape[2];
        int cell = (int)size * Scale;
        int width = panels.Count * Columns * cell + (panels.Count - 1) * Gap, height = classes * cell;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        pixels.Fill(255);
        for (int p = 0; p < panels.Count; p++)
        {
            using var scope = NewDisposeScope();
            var panel = panels[p];
            if (panel.dim() != 4 || panel.shape[1] != 1 || panel.shape[2] != size || panel.shape[0] % classes != 0)
                throw new ArgumentException($"Panel {p} has shape [{string.Join(", ", panel.shape)}]; expected [{classes} * n, 1, {size}, {size}].", nameof(panels));
            int perRow = (int)(panel.shape[0] / classes);
            var bytes = panel.to(float32).cpu().add(1).mul(127.5).round().clamp(0, 255).to(ScalarType.Byte).contiguous().bytes.ToArray();
            int left = p * (Columns * cell + Gap);
            for (int i = 0; i < panel.shape[0]; i++)
            {
                int top = i / perRow * cell, x0 = left + i % perRow * cell;
                for (int y = 0; y < cell; y++)
                    for (int x = 0; x < cell; x++)
                        pixels[(top + y) * width + x0 + x] = bytes[i * size * size + y / Scale * size + x / Scale];
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
