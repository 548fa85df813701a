using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// Runs the built scmctl (copied next to the tests) as a user would: its own process, the server URL and key from the
/// environment, a config home of its own (so no ~/.config/scm/credentials of the machine is read).
/// </summary>
static partial class ScmctlProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static async Task<Result> RunAsync(Uri url, string? apiKey, params string[] args) => await RunAsync(url, apiKey, TimeSpan.FromSeconds(120), args);

    public static Task<Result> RunAsync(Uri url, string? apiKey, TimeSpan limit, params string[] args) => RunAsync(url, apiKey, limit, args, []);

    public static async Task<Result> RunAsync(Uri url, string? apiKey, TimeSpan limit, string[] args, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scmctl.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["SCM_URL"] = url.ToString();
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "scmctl-tests-config");
        if (apiKey is null) info.Environment.Remove("SCM_API_KEY");
        else info.Environment["SCM_API_KEY"] = apiKey;
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scmctl {string.Join(' ', args)} still running after {limit}; stdout so far: {await stdout}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A .NET stack frame ("   at Namespace.Type.Method(...)"), which must never reach a user without --verbose.</summary>
    [GeneratedRegex(@"^\s+at \S+\(", RegexOptions.Multiline)]
    public static partial Regex StackFrame();

    public static void AssertNoStackTrace(Result result)
    {
        Assert.False(StackFrame().IsMatch(result.Stdout), $"stack trace on stdout: {result}");
        Assert.False(StackFrame().IsMatch(result.Stderr), $"stack trace on stderr: {result}");
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
    }

    /// <summary>Exactly one non-empty line on stderr, starting with "error: ".</summary>
    public static string AssertOneLineError(Result result)
    {
        AssertNoStackTrace(result);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), $"expected one error line: {result}");
        return lines[0];
    }
}
