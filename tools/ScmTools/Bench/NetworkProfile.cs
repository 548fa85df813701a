using System.Diagnostics;
using Scm.Network;
using static TorchSharp.torch;

namespace ScmTools;

/// <summary>
/// `bench sampler --profile`: where a network evaluation's time goes. Times one forward pass of F at the compute
/// batch, then every one of its convolutions alone (the shapes from <see cref="FlopCounter.Convolutions"/>, random
/// weights: speed does not depend on them). Convolutions carry ~99 % of the counted FLOPs, so the gap between the
/// two times is GroupNorm, SiLU, the AdaGN multiply-add, attention's softmax, concatenation and upsampling: memory-bound
/// work that counts (almost) no FLOPs and caps the sampler's ratio below the convolutions' own.
/// </summary>
static class NetworkProfile
{
    public static void Run(ScmUNet network, int batch, int rounds, double ceilingGflops, TextWriter output, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var config = network.Config;
        var flops = FlopCounter.PerSample(config);
        var x = randn(batch, config.ImageChannels, config.Resolution, config.Resolution);
        var t = full(batch, 1.0f);
        var labels = config.NumClasses > 0 ? zeros(batch, config.NumClasses) : null;
        var guidance = config.GuidanceEmbedding ? ones(batch) : null;
        var layers = FlopCounter.Convolutions(config).Select(c => (Shape: c,
            Input: randn(batch, c.InChannels, c.InputResolution, c.InputResolution),
            Weight: randn(c.OutChannels, c.InChannels, c.Kernel, c.Kernel),
            Bias: randn(c.OutChannels))).ToList();
        void Forward()
        {
            using var step = NewDisposeScope();
            network.forward(x, t, labels, guidance);
        }
        void Convolutions()
        {
            foreach (var (shape, input, weight, bias) in layers)
                nn.functional.conv2d(input, weight, bias, strides: [shape.Stride, shape.Stride], padding: [shape.Kernel / 2, shape.Kernel / 2]).Dispose();
        }

        // Both blocks run back to back in every round, so background load hits them alike; best round of each.
        Forward();
        Convolutions(); // warm-up: oneDNN primitive creation for every shape
        double forward = double.MaxValue, convolutions = double.MaxValue;
        for (int round = 0; round < Math.Max(rounds, 3); round++)
        {
            ct.ThrowIfCancellationRequested();
            forward = Math.Min(forward, Seconds(Forward));
            convolutions = Math.Min(convolutions, Seconds(Convolutions));
        }

        double forwardGflops = batch * flops.Total / forward / 1e9;
        double convGflops = batch * flops.Convolutions / convolutions / 1e9;
        output.WriteLine($"  profile at compute batch {batch} (best of {Math.Max(rounds, 3)} interleaved rounds):");
        output.WriteLine($"    forward pass of F        {1000 * forward,8:F2} ms   {forwardGflops,7:F1} GFLOP/s   ratio {forwardGflops / ceilingGflops:F2}");
        output.WriteLine($"    its {layers.Count} convolutions alone {1000 * convolutions,8:F2} ms   {convGflops,7:F1} GFLOP/s   ratio {convGflops / ceilingGflops:F2}" +
                         $"   ({flops.Convolutions / (double)flops.Total:P1} of the FLOPs, {convolutions / forward:P0} of the time)");
        output.WriteLine($"    everything else          {1000 * Math.Max(0, forward - convolutions),8:F2} ms   (norms, activations, attention softmax, concat, upsampling, embeddings)");
    }

    static double Seconds(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
