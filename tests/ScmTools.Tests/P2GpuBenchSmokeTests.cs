using System.CommandLine;

namespace ScmTools.Tests;

using TestModels = TestModels;

/// <summary>
/// `scm-tools bench p2-gpu` end to end on the CPU with tiny settings: direct sampling at each batch size, then a video
/// job through the in-process cluster with the CPU kind's work sizes; the ratio is printed last and the row appended.
/// Only the shape of the output is checked, never a time.
/// </summary>
public sealed class P2GpuBenchSmokeTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("p2-gpu-smoke-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task Bench_p2_gpu_on_the_cpu_prints_direct_rates_the_cluster_rate_and_the_ratio_last()
    {
        string report = Path.Combine(directory, "BENCHMARKS.md");
        var root = new RootCommand { BenchCommands.Create() };
        string[] args = ["bench", "p2-gpu", "--model", TestModels.TinyCard, "--device", "cpu", "--frames", "24", "--size", "16", "--steps", "1",
            "--batch-sizes", "4,8", "--rounds", "1", "--blob-root", directory, "--report", report];
        var output = new StringWriter();

        int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.True(code == 0, output.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches(@"^P2-GPU ratio \d+\.\d{3} = cluster [\d.]+ frames/s / direct [\d.]+ images/s \(batch [48]\) on cpu; goal >= 0\.80", lines[^1]);
        Assert.Contains(lines, l => l.StartsWith("batch     4:", StringComparison.Ordinal) && l.EndsWith("images/s", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("batch     8:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("cluster: 24 frames in ", StringComparison.Ordinal) && l.Contains("worker cpu chunk 8", StringComparison.Ordinal));
        var doc = File.ReadAllLines(report);
        int section = Array.IndexOf(doc, "## P2-GPU: cluster frames/s / best direct images/s on the same device");
        Assert.True(section >= 0, string.Join('\n', doc));
        var row = Assert.Single(doc.Skip(section + 4), l => l.StartsWith("| ", StringComparison.Ordinal));
        Assert.Contains("| cpu, 8 / 64 / default | 24, 16 px, 1 |", row);
        Assert.Contains("`scm-tools bench p2-gpu --model ", row);
        Assert.Empty(Directory.GetDirectories(directory, "scm-bench-cluster-*")); // the blob folder is removed afterwards
    }

    [Fact]
    public async Task Bench_p2_gpu_with_another_chunk_and_lease_runs_the_worker_at_them()
    {
        var root = new RootCommand { BenchCommands.Create() };
        string[] args = ["bench", "p2-gpu", "--model", TestModels.TinyCard, "--device", "cpu", "--frames", "24", "--size", "16", "--steps", "1",
            "--rounds", "1", "--compute-chunk", "4", "--lease-frames", "12", "--blob-root", directory];
        var output = new StringWriter();

        int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.True(code == 0, output.ToString());
        string text = output.ToString();
        Assert.Contains("worker cpu chunk 4 Float32, lease 12", text); // read back from the manifest's frames
        Assert.Contains("batch    16:", text); // direct batches: the chunk x 1, 2, 4, 8
    }

    [Theory]
    [InlineData("--compute-chunk", "0")]
    [InlineData("--compute-chunk", "5000")]
    [InlineData("--lease-frames", "0")]
    public async Task Bench_p2_gpu_refuses_a_work_size_out_of_range_naming_it(string option, string value)
    {
        var root = new RootCommand { BenchCommands.Create() };
        var output = new StringWriter();

        int code = await root.Parse(["bench", "p2-gpu", "--model", TestModels.TinyCard, "--device", "cpu", option, value])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.Equal(2, code);
        Assert.Contains(option, output.ToString());
    }

    [Fact]
    public async Task A_bench_given_an_unknown_device_exits_2_before_it_measures_anything()
    {
        var root = new RootCommand { BenchCommands.Create() };
        var output = new StringWriter();

        int code = await root.Parse(["bench", "cluster", "--model", TestModels.TinyCard, "--device", "gpu0"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.Equal(2, code);
        Assert.Contains("--device: 'gpu0'", output.ToString());
    }
}
