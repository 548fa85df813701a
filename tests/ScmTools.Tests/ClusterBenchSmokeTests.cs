using System.CommandLine;

namespace ScmTools.Tests;

using TestModels = TestModels;

/// <summary>`scm-tools bench cluster` end to end with tiny settings: it runs both paths, prints the ratio last and appends its row.</summary>
public class ClusterBenchSmokeTests
{
    [Fact]
    public async Task Bench_cluster_prints_the_ratio_last_and_appends_a_P2_row_with_the_command()
    {
        var report = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", $"benchmarks-{Guid.NewGuid():N}.md");
        var root = new RootCommand { ScmTools.BenchCommands.Create() };
        string[] args = ["bench", "cluster", "--model", TestModels.TinyCard, "--frames", "8", "--batch-sizes", "4", "--rounds", "1",
            "--size", "16", "--steps", "1", "--report", report];
        var output = new StringWriter();
        try
        {
            int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

            Assert.True(code == 0, output.ToString());
            var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Matches(@"^ratio \d+\.\d{3} .*goal >= 0\.95", lines[^1]);
            Assert.Contains("same PNG bytes in both paths: yes", lines);
            var runs = lines.Where(l => l.Contains(" frames in ", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToList();
            Assert.Equal(["direct", "cluster", "direct"], runs);
            var doc = File.ReadAllLines(report);
            int section = Array.IndexOf(doc, "## P2 cluster overhead");
            Assert.True(section >= 0);
            var row = Assert.Single(doc.Skip(section + 4), l => l.StartsWith("| ", StringComparison.Ordinal));
            Assert.Contains("| 8 x 4 |", row);
            Assert.Contains("`scm-tools bench cluster --model ", row);
        }
        finally
        {
            File.Delete(report);
        }
    }
}
