using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Cluster.Tests.Scmctl;

namespace Cluster.Tests.Chaos;

/// <summary>One scmctl process of a chaos loop: what it ran, when (seconds on the loop's clock) and how it ended.</summary>
internal sealed record LoopRun(string Operation, string Arguments, double Start, double End, ScmctlProcess.Result Result)
{
    public bool Ok => Result.ExitCode == 0;
    public override string ToString() => $"{Operation} [{Start:F1}-{End:F1} s] scmctl {Arguments}: {Result}";
}

/// <summary>
/// Runs the real scmctl binary over and over, as operators' scripts and tenants would while the cluster is being broken,
/// and keeps every run for the checks (exit codes, no stack traces) and for the unavailability windows.
/// </summary>
internal sealed partial class ScmctlLoops
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly ConcurrentQueue<LoopRun> runs = new();

    /// <summary>Seconds since the loops began: the time base of every run and fault.</summary>
    public double Now => clock.Elapsed.TotalSeconds;

    public IReadOnlyList<LoopRun> Runs => runs.ToList();

    public async Task<LoopRun> RunAsync(string operation, Uri url, string apiKey, TimeSpan limit, params string[] args)
    {
        double start = Now;
        var result = await ScmctlProcess.RunAsync(url, apiKey, limit, args);
        var run = new LoopRun(operation, string.Join(' ', args), start, Now, result);
        runs.Enqueue(run);
        return run;
    }

    /// <summary>The same command again and again, with a pause between runs, until <paramref name="stop"/>.</summary>
    public async Task RepeatAsync(string operation, Uri url, string apiKey, string[] args, TimeSpan pause, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await RunAsync(operation, url, apiKey, TimeSpan.FromSeconds(90), args);
            try { await Task.Delay(pause, stop); }
            catch (OperationCanceledException) { }
        }
    }

    /// <summary>Whether <paramref name="operation"/> has succeeded in a run that started at or after <paramref name="since"/>.</summary>
    public bool SucceededSince(string operation, double since) => runs.Any(r => r.Operation == operation && r.Ok && r.Start >= since);

    /// <summary>
    /// The operation's unavailability window after a fault: from the fault to the end of the first successful run that
    /// started after it (a run already in flight may ride through on its retries, which says less about the window).
    /// </summary>
    public Window WindowAfter(string operation, double fault)
    {
        var after = runs.Where(r => r.Operation == operation && r.Start >= fault).OrderBy(r => r.Start).ToList();
        var firstOk = after.FirstOrDefault(r => r.Ok);
        var inWindow = firstOk is null ? after : after.Where(r => r.Start <= firstOk.Start).ToList();
        var overlapping = runs.Where(r => r.Operation == operation && r.End >= fault && (firstOk is null || r.Start <= firstOk.Start)).ToList();
        return new Window(
            firstOk is null ? null : Math.Round(firstOk.End - fault, 2),
            inWindow.Count(r => !r.Ok),
            overlapping.Count == 0 ? 0 : Math.Round(overlapping.Max(r => r.End - r.Start), 2));
    }

    /// <param name="Seconds">Fault to the first success that started after it; null if there was none.</param>
    /// <param name="FailedRuns">Runs that started after the fault and failed before that success.</param>
    /// <param name="LongestRun">The longest run in flight during the window (its retries count in it).</param>
    public sealed record Window(double? Seconds, int FailedRuns, double LongestRun);

    /// <summary>Median duration of the operation's successful runs before <paramref name="until"/>: the cost of a run on a healthy cluster.</summary>
    public double? BaselineSeconds(string operation, double until)
    {
        var durations = runs.Where(r => r.Operation == operation && r.Ok && r.End < until).Select(r => r.End - r.Start).Order().ToList();
        return durations.Count == 0 ? null : Math.Round(durations[durations.Count / 2], 2);
    }

    /// <summary>Every line of every run that looks like a stack trace or an unhandled exception, with its run.</summary>
    public IEnumerable<string> StackTraceLines() =>
        from run in runs
        from line in (run.Result.Stdout + "\n" + run.Result.Stderr).Split('\n')
        where ScmctlProcess.StackFrame().IsMatch(line) || line.Contains("Unhandled", StringComparison.Ordinal) || ExceptionWithType().IsMatch(line)
        select $"{run.Operation} [{run.Start:F1} s] scmctl {run.Arguments}: {line.Trim()}";

    /// <summary>"System.TimeoutException: ..." or "SiloUnavailableException:": an exception's type name leaking into output.</summary>
    [GeneratedRegex(@"\b[A-Z]\w*Exception:")]
    private static partial Regex ExceptionWithType();
}
