using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Cluster.Tests.Chaos;

/// <summary>
/// Measured figures of a chaos run: printed to the test output and appended as one JSON line to
/// out/reliability/figures.jsonl (or $SCM_RELIABILITY_LOG), which docs/RELIABILITY.md quotes. Wall-clock figures are
/// reported, never asserted: the machine is shared and loaded.
/// </summary>
public static class ReliabilityLog
{
    static readonly object gate = new();

    public static void Record(ITestOutputHelper output, string test, IReadOnlyDictionary<string, object?> figures)
    {
        var line = new Dictionary<string, object?>
        {
            ["test"] = test,
            ["at"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["machine"] = Environment.MachineName,
            // Figures depend on the settings and on how busy the shared machine was: both go with them.
            ["failureDetection"] = FailureDetection.Describe(), ["loadAverage"] = LoadAverage(),
        };
        foreach (var (key, value) in figures) line[key] = value is double d ? Math.Round(d, 2) : value;
        var json = JsonSerializer.Serialize(line);
        output.WriteLine($"figures: {json}");
        var path = Path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        lock (gate) File.AppendAllText(path, json + Environment.NewLine);
    }

    static string Path => Environment.GetEnvironmentVariable("SCM_RELIABILITY_LOG") is { Length: > 0 } configured
        ? configured
        : System.IO.Path.Combine(RepositoryRoot(), "out", "reliability", "figures.jsonl");

    static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "Cluster.sln"))) return folder.FullName;
        return System.IO.Path.GetTempPath();
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), or null where /proc/loadavg does not exist.</summary>
    public static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;

    /// <summary>Seconds since the fault, or null when the event was not seen.</summary>
    public static double? Seconds(TimeSpan? elapsed) => elapsed is { } e ? Math.Round(e.TotalSeconds, 2) : null;
}
