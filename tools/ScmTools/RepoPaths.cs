namespace ScmTools;

/// <summary>Default locations, relative to the repository root (found by walking up to Cluster.sln).</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Data => Path.Combine(Root, "data", "mnist");
    public static string Runs => Path.Combine(Root, "runs");
    public static string Models => Path.Combine(Root, "models");

    /// <summary>
    /// The teacher that `eval` and the benches judge against: the shipped one (models/mnist-teacher) if present, else
    /// the output of `train teacher` (runs/teacher/ema). `train scd` defaults to the latter: it continues the pipeline.
    /// </summary>
    public static string JudgingTeacher
    {
        get
        {
            string shipped = Path.Combine(Models, "mnist-teacher", "model.json");
            return File.Exists(shipped) ? shipped : Path.Combine(Runs, "teacher", "ema", "model.json");
        }
    }

    static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
