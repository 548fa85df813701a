using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Scm.Checkpoints;
using Scm.Sampling;
using TorchSharp;

namespace ScmTools;

/// <summary>
/// `scm-tools doctor`: what this node's torch can do. Prints the TorchSharp and libtorch versions, CUDA and its
/// devices, and samples a few frames with the shipped model on every device (plus the sampler's images/s at the GPU
/// compute chunk), so a GPU node set up with the host's PyTorch libtorch (infra/gpu/) is checked before it joins.
/// Exit 0 when every device worked, 3 when one failed, 2 when the native library does not load at all.
/// </summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model card to sample with.", DefaultValueFactory = _ => BenchCommands.DefaultModel };
        var chunk = new Option<int>("--chunk") { Description = "Images per network call for the CUDA throughput line (Devices:Cuda:ComputeChunk).", DefaultValueFactory = _ => 512 };
        var command = new Command("doctor", "Check torch on this node: versions, CUDA devices, one sampled batch per device.");
        command.Options.Add(model);
        command.Options.Add(chunk);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(chunk)));
        return command;
    }

    static int Run(string modelCard, int chunk)
    {
        Console.WriteLine($"runtime: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"LD_LIBRARY_PATH: {Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "(unset)"}");
        bool cuda;
        int count;
        try
        {
            cuda = torch.cuda.is_available();
            count = cuda ? torch.cuda.device_count() : 0;
            Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}; libtorch {torch.__version__}; CUDA available: {cuda}, devices: {count}");
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            Console.Error.WriteLine("error: TorchSharp's native library did not load: " + (e.InnerException ?? e).Message);
            Console.Error.WriteLine("  CPU: the build output must hold the libtorch-cpu natives (dotnet build does that).");
            Console.Error.WriteLine("  GPU: run through infra/gpu/with-host-libtorch.sh, which points LD_LIBRARY_PATH at the host PyTorch's torch/lib.");
            return 2;
        }
        if (!File.Exists(modelCard))
        {
            Console.Error.WriteLine($"error: --model: '{modelCard}' not found.");
            return 2;
        }
        var devices = new List<string> { "cpu" };
        devices.AddRange(Enumerable.Range(0, count).Select(i => $"cuda:{i}"));
        int failures = 0;
        foreach (var device in devices)
        {
            try { Console.WriteLine($"{device}: {Probe(modelCard, device, device == "cpu" ? 8 : chunk)}"); }
            catch (Exception e)
            {
                failures++;
                Console.Error.WriteLine($"{device}: FAILED: {e.GetType().Name}: {e.Message}");
            }
        }
        Console.WriteLine(failures == 0 ? "all devices ok" : $"{failures} device(s) failed");
        return failures == 0 ? 0 : 3;
    }

    /// <summary>Samples one chunk twice (the first call warms up), timed with a device synchronisation in the result copy.</summary>
    static string Probe(string modelCard, string deviceName, int computeChunk)
    {
        var device = torch.device(deviceName);
        var (network, card) = Checkpoint.Load(modelCard, device);
        var sampler = new ConsistencySampler(network, device, computeChunk);
        var specs = Enumerable.Range(0, computeChunk).Select(i => SampleSpec.Image(1, i, i % Math.Max(1, card.Network.NumClasses), card.Network.NumClasses)).ToList();
        using (sampler.Sample(specs, SamplingSchedule.ForSteps(2, tMid: card.TMid))) { }
        var clock = Stopwatch.StartNew();
        // Sample returns a CPU tensor: the copy back waits for the device, so the clock covers the GPU work.
        using var images = sampler.Sample(specs, SamplingSchedule.ForSteps(2, tMid: card.TMid));
        double seconds = clock.Elapsed.TotalSeconds;
        float min = images.min().item<float>(), max = images.max().item<float>();
        if (!float.IsFinite(min) || !float.IsFinite(max)) throw new InvalidOperationException("sampled images are not finite");
        return $"sampled {computeChunk} frames at 2 steps in {seconds * 1000:F1} ms ({computeChunk / seconds:F0} images/s at chunk {computeChunk}), values in [{min:F2}, {max:F2}]";
    }
}
