using System.Runtime.CompilerServices;
using Scm.Network;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>Tiny networks and temp folders shared by the tests. Every network here runs in milliseconds.</summary>
static class TestSupport
{
    /// <summary>
    /// One torch thread for the whole test run: the suite shares 2 cores with long training runs, and bit-level
    /// comparisons should not depend on the machine's core count.
    /// </summary>
    [ModuleInitializer]
    internal static void UseOneTorchThread() => set_num_threads(1);

    /// <summary>Two levels with attention at 4x4: every kind of layer of the real U-Net, ~30k parameters.</summary>
    public static NetworkConfig Tiny(int numClasses = 3, int imageChannels = 1) => new()
    {
        Resolution = 8, ImageChannels = imageChannels, ModelChannels = 8, ChannelMultipliers = [1, 2], BlocksPerLevel = 1,
        AttentionResolutions = [4], AttentionHeadChannels = 8, NumClasses = numClasses, GroupNormGroups = 4,
    };

    /// <summary>The smallest network the code can build: one level, attention only in the middle.</summary>
    public static NetworkConfig Minimal => new()
    {
        Resolution = 8, ImageChannels = 1, ModelChannels = 4, ChannelMultipliers = [1], BlocksPerLevel = 1,
        AttentionResolutions = [], AttentionHeadChannels = 4, NumClasses = 0, GroupNormGroups = 2, LogVarianceHead = false,
    };

    /// <summary>The shipped MNIST architecture.</summary>
    public static NetworkConfig Mnist => NetworkConfig.Mnist;

    /// <summary>A randomly initialised network in eval mode; the seed fixes its weights.</summary>
    public static ScmUNet NewNetwork(NetworkConfig config, long seed = 1)
    {
        manual_seed(seed);
        var network = new ScmUNet(config);
        network.eval();
        return network;
    }

    public static float[] Floats(Tensor t) => t.contiguous().data<float>().ToArray();

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = (a.to(float64) - b.to(float64)).abs().max();
        return d.item<double>();
    }
}

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("scm-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
