using System.CommandLine;

namespace ScmTools.Tests;

using TestModels = TestModels;

/// <summary>`scm-tools bench scale` end to end with tiny settings: it runs, prints its summary and appends its row.</summary>
public class ScaleBenchSmokeTests
{
    [Fact]
    public async Task Bench_scale_with_tiny_settings_completes_and_appends_a_P4_row_to_the_report()
    {
        var report = Path.Combine(Path.GetTempPath(), $"scm-bench-scale-{Guid.NewGuid():N}.md");
        var console = Console.Out;
        var printed = new StringWriter();
        try
        {
            Console.SetOut(printed);
            var root = new RootCommand { ScmTools.ScaleCommand.Create() };
            int code = await root.Parse([
                "scale", "--devices", "1,3", "--silos", "2", "--frames-per-batch", "4", "--batch-delay-ms", "20", "--seconds", "0.2",
                "--job-frames", "8", "--model-card", TestModels.TinyCard, "--report", report,
            ]).InvokeAsync();
            Console.SetOut(console);
            Assert.True(code == 0, printed.ToString());
        }
        finally
        {
            Console.SetOut(console);
        }
        var text = printed.ToString();
        Assert.Contains("SIMULATION", text, StringComparison.Ordinal);
        var lastLine = text.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("throughput / ideal at 3 devices (2 silos, SIMULATED):", lastLine, StringComparison.Ordinal);

        var lines = File.ReadAllLines(report);
        int heading = Array.IndexOf(lines, "## P4 scale by simulation");
        Assert.True(heading >= 0, string.Join('\n', lines));
        var row = Assert.Single(lines.Skip(heading), l => l.StartsWith("| 20", StringComparison.Ordinal));
        Assert.Contains("1: ", row, StringComparison.Ordinal);
        Assert.Contains("3: ", row, StringComparison.Ordinal);
        File.Delete(report);
    }
}
