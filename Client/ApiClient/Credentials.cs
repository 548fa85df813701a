namespace ApiClient;

/// <summary>
/// Where a client's API key comes from, in order: a key file given explicitly (--key-file), the environment
/// variable SCM_API_KEY, then ~/.config/scm/credentials. Never from a command-line argument (shell history,
/// process listings). A key file holds the key on its first line that is neither empty nor a '#' comment.
/// </summary>
public static class Credentials
{
    public const string EnvironmentVariable = "SCM_API_KEY";

    public static string DefaultFile => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
        "scm", "credentials");

    /// <summary>The key, or null when none is configured (the cluster then answers with a MissingKey auth error).</summary>
    public static string? Resolve(string? keyFile = null)
    {
        if (keyFile is not null)
            return ReadFile(keyFile) ?? throw new ArgumentException($"--key-file: '{keyFile}' holds no key");
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env) return env.Trim();
        return File.Exists(DefaultFile) ? ReadFile(DefaultFile) : null;
    }

    static string? ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"key file '{path}' does not exist");
        return File.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'));
    }

    /// <summary>
    /// Writes a key file readable only by its owner (0600 on Unix). The key goes into a new file created with that mode
    /// (never a moment readable by others, never through a file or link someone else placed there), which then replaces
    /// <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, string apiKey)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var writer = new StreamWriter(temporary, options)) writer.Write(apiKey + Environment.NewLine);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
