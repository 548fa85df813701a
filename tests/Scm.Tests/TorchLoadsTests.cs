using static TorchSharp.torch;

namespace Scm.Tests;

public class TorchLoadsTests
{
    [Fact]
    public void TorchSharp_loads_and_computes_a_matmul()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }
}
