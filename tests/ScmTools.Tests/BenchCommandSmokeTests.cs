using System.CommandLine;
using System.Globalization;
using ScmTools;

namespace ScmTools.Tests;

/// <summary>
/// Each bench command end to end, in-process, with settings small enough for seconds: it must exit 0 and append one
/// row with a numeric ratio to the section of the report file it was given. Timings are never asserted.
/// </summary>
public sealed class BenchCommandSmokeTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("bench-smoke-").FullName;

    string Report => Path.Combine(directory, "BENCHMARKS.md");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task Bench_sampler_appends_a_P1_row_with_its_best_ratio()
    {
        int exit = await Invoke("bench", "sampler", "--batch-sizes", "1,2", "--threads", "1", "--rounds", "1", "--profile", "--report", Report);

        Assert.Equal(0, exit);
        var row = SingleRow("## P1 sampler efficiency");
        Assert.Matches(@"^batch [12] / 1 thread\(s\)", row[2]); // either batch size may win
        Assert.True(double.Parse(row[5], CultureInfo.InvariantCulture) > 0, $"ratio cell: {row[5]}");
        Assert.Contains(row[6], new[] { "met", "missed" });
        Assert.StartsWith("`scm-tools ", row[^1], StringComparison.Ordinal);
    }

    /// <summary>The network in bfloat16 (slow on a CPU without bf16 units: one image, one round); the row keeps the command.</summary>
    [Fact]
    public async Task Bench_sampler_runs_the_network_in_bfloat16_when_asked()
    {
        int exit = await Invoke("bench", "sampler", "--batch-sizes", "1", "--threads", "1", "--rounds", "1", "--precision", "BFloat16", "--report", Report);

        Assert.Equal(0, exit);
        var row = SingleRow("## P1 sampler efficiency");
        Assert.True(double.Parse(row[3], CultureInfo.InvariantCulture) > 0, $"sampler GFLOP/s cell: {row[3]}");
        Assert.EndsWith(", BFloat16)", row[2]);
        Assert.NotEqual(0, await Invoke("bench", "sampler", "--precision", "Float8"));
    }

    [Fact]
    public async Task Bench_consistency_vs_diffusion_appends_a_P3_row_with_time_and_FD_ratios()
    {
        Assert.True(Scm.Training.MnistDigits.IsPresent(RepoPaths.Data), $"MNIST is missing in {RepoPaths.Data}: run infra/fetch-mnist.sh");

        int exit = await Invoke("bench", "consistency-vs-diffusion", "--samples", "20", "--batch-size", "10", "--teacher-nfe", "3",
            "--threads", "1", "--report", Report);

        Assert.Equal(0, exit);
        var row = SingleRow("## P3 consistency vs diffusion");
        Assert.StartsWith("20, teacher 3 NFE vs sCM 2-step", row[2], StringComparison.Ordinal);
        Assert.True(double.Parse(row[4].Split('x')[0], CultureInfo.InvariantCulture) > 0, $"time ratio cell: {row[4]}");
        Assert.True(double.Parse(row[6].Split(' ')[0], CultureInfo.InvariantCulture) > 0, $"FD ratio cell: {row[6]}");
        Assert.Equal(3, row[5].Split(" / ").Length); // student FD / teacher FD / real-vs-real floor
        // The goals are for the teacher at 63 NFE: against 3 NFE the row gives no verdict (a "met" would be meaningless).
        Assert.Equal("no verdict", row[7]);
        Assert.Contains("no verdict", row[6]);
    }

    /// <summary>
    /// Judged against the validation digits with a guided teacher: the row says so, and the same student samples get
    /// another FD than against the held-out digits (the reference really changed).
    /// </summary>
    [Fact]
    public async Task Bench_consistency_vs_diffusion_judges_against_the_validation_digits_with_a_guided_teacher()
    {
        Assert.True(Scm.Training.MnistDigits.IsPresent(RepoPaths.Data), $"MNIST is missing in {RepoPaths.Data}: run infra/fetch-mnist.sh");
        string[] common = ["bench", "consistency-vs-diffusion", "--samples", "20", "--batch-size", "10", "--teacher-nfe", "3", "--threads", "1"];

        Assert.Equal(0, await Invoke([.. common, "--report", Report]));
        string heldOutReport = Path.Combine(directory, "held-out.md");
        File.Move(Report, heldOutReport);
        Assert.Equal(0, await Invoke([.. common, "--against", "Validation", "--teacher-guidance", "2", "--report", Report]));

        var validation = SingleRow("## P3 consistency vs diffusion");
        File.Move(Report, Path.Combine(directory, "validation.md"));
        File.Move(heldOutReport, Report);
        var heldOut = SingleRow("## P3 consistency vs diffusion");
        Assert.StartsWith("20, teacher 3 NFE, CFG 2 vs sCM 2-step", validation[2], StringComparison.Ordinal);
        Assert.Contains("FD to the validation digits", validation[2]);
        Assert.Contains("FD to the held-out digits", heldOut[2]);
        double StudentFd(string[] row) => double.Parse(row[5].Split(" / ")[0], CultureInfo.InvariantCulture);
        Assert.NotEqual(StudentFd(heldOut), StudentFd(validation));
    }

    static async Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(BenchCommands.Create());
        return await root.Parse(args).InvokeAsync();
    }

    /// <summary>The cells of the only data row under <paramref name="section"/>.</summary>
    string[] SingleRow(string section)
    {
        var lines = File.ReadAllLines(Report);
        int heading = Array.IndexOf(lines, section);
        Assert.True(heading >= 0, $"no section {section} in:\n{string.Join('\n', lines)}");
        var rows = lines.Skip(heading + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Where(l => l.StartsWith('|')).Skip(2).ToList(); // header and separator
        var row = Assert.Single(rows);
        return row.Trim('|').Split(" | ").Select(c => c.Trim()).ToArray();
    }
}
