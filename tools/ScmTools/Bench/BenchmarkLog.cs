using System.CommandLine;
using System.Runtime.InteropServices;

namespace ScmTools;

/// <summary>
/// Appends a measured row to docs/BENCHMARKS.md under the benchmark's own heading ("## P1 ...", "## P2 ..."), with
/// the date, the machine and the exact command, so every number in the doc can be traced to the run that made it.
/// Each section holds a markdown table whose header the benchmark supplies the first time it writes.
/// </summary>
public static class BenchmarkLog
{
    public static string DocPath => Path.Combine(RepoPaths.Root, "docs", "BENCHMARKS.md");

    /// <summary>`--report PATH`: where a bench appends its row; opt-in (default "none"), so a trial run never edits the docs.</summary>
    public static Option<string> ReportOption() => new("--report")
    {
        Description = $"Markdown file to append the result row to, e.g. {Path.GetRelativePath(RepoPaths.Root, DocPath)} (default: none).",
        DefaultValueFactory = _ => "none",
    };

    /// <summary>Appends the row unless the report option said "none"; returns where it went (or null).</summary>
    public static string? AppendRowIfWanted(string report, string sectionHeading, IReadOnlyList<string> columns, IReadOnlyList<string> cells)
    {
        if (string.Equals(report, "none", StringComparison.OrdinalIgnoreCase)) return null;
        AppendRow(sectionHeading, columns, cells, report);
        return report;
    }

    /// <summary>One line describing this machine: CPU model, logical cores, OS, .NET.</summary>
    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) cpu = line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}";
    }

    /// <summary>
    /// The 1-minute load average (Linux; "?" elsewhere): wall-clock timings on a shared machine depend on it, so every
    /// measured row records it at start and end.
    /// </summary>
    public static string LoadAverage()
    {
        try { return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; }
    }

    /// <summary>The command line as typed, for the "command" column.</summary>
    public static string CommandLine() =>
        "scm-tools " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1).Select(a => a.Contains(' ') ? $"\"{a}\"" : a));

    /// <summary>
    /// Appends <paramref name="cells"/> as a row of the table in section <paramref name="sectionHeading"/> (created
    /// with <paramref name="columns"/> if missing). Cells must not contain '|'.
    /// </summary>
    public static void AppendRow(string sectionHeading, IReadOnlyList<string> columns, IReadOnlyList<string> cells, string? path = null)
    {
        if (columns.Count != cells.Count) throw new ArgumentException($"{cells.Count} cells for {columns.Count} columns.", nameof(cells));
        path ??= DocPath;
        var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : ["# Benchmarks", ""];
        string row = "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "/"))) + " |";
        int heading = lines.FindIndex(l => l.Trim() == sectionHeading);
        if (heading < 0)
        {
            if (lines.Count > 0 && lines[^1].Length > 0) lines.Add("");
            lines.AddRange([sectionHeading, "", "| " + string.Join(" | ", columns) + " |", "|" + string.Concat(columns.Select(_ => " --- |")), row, ""]);
        }
        else
        {
            // Insert after the last row of the section's first table (later tables, e.g. a micro-benchmark's, are
            // prose-owned), or start the table if the section has none yet.
            int next = lines.FindIndex(heading + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
            if (next < 0) next = lines.Count;
            int lastTableLine = -1;
            for (int i = heading + 1; i < next; i++)
            {
                if (lines[i].StartsWith('|')) lastTableLine = i;
                else if (lastTableLine >= 0) break;
            }
            if (lastTableLine < 0)
                lines.InsertRange(heading + 1, ["", "| " + string.Join(" | ", columns) + " |", "|" + string.Concat(columns.Select(_ => " --- |")), row]);
            else
                lines.Insert(lastTableLine + 1, row);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, lines);
    }
}
