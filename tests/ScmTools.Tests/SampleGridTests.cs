using SkiaSharp;
using static TorchSharp.torch;

namespace ScmTools.Tests;

public sealed class SampleGridTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sample-grid-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Each digit lands in its class row and column, at twice its size, with white gaps between panels.</summary>
    [Fact]
    public void Panels_are_drawn_side_by_side_one_row_per_class()
    {
        using var scope = NewDisposeScope();
        // Two classes, 2 digits each, 4x4 pixels: panel 0 black except digit (class 1, column 1) white; panel 1 all mid-grey.
        var first = full(4, 1, 4, 4, -1.0f);
        first[3].fill_(1.0f);
        var second = zeros(4, 1, 4, 4);
        string path = Path.Combine(directory, "grid.png");

        SampleGrid.Save(path, [first, second], classes: 2);

        using var png = SKBitmap.Decode(path);
        int cell = 8, panelWidth = SampleGrid.Columns * cell;
        Assert.Equal((2 * panelWidth + 8, 2 * cell), (png.Width, png.Height));
        byte Grey(int x, int y) => png.GetPixel(x, y).Red;
        Assert.Equal(0, Grey(0, 0));                          // class 0, digit 0: black
        Assert.Equal(255, Grey(cell + 3, cell + 3));          // class 1, digit 1: white
        Assert.Equal(0, Grey(3, cell + 3));                   // class 1, digit 0: black
        Assert.Equal(255, Grey(2 * cell + 1, 1));             // past this panel's 2 columns: background
        Assert.Equal(255, Grey(panelWidth + 4, 4));           // the gap
        Assert.InRange(Grey(panelWidth + 8 + 1, cell + 1), 127, 128); // second panel: 0 maps to mid-grey
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17], SampleGrid.FirstOfEachClass(2, perClass: 10));
        Assert.Equal([0L, 1, 2, 3], SampleGrid.FirstOfEachClass(2, perClass: 2));
    }

    [Fact]
    public void A_panel_of_the_wrong_shape_is_refused_by_index()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SampleGrid.Save(Path.Combine(directory, "x.png"), [zeros(4, 1, 4, 4), zeros(3, 1, 4, 4)], classes: 2));
        Assert.Contains("Panel 1", e.Message);
    }
}
