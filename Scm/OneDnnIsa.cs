using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Scm;

/// <summary>
/// Caps oneDNN (libtorch's CPU convolution library) at SSE4.1 on AMD Zen 5 and later, before any network runs.
/// Why: on a Zen 5 EPYC (family 26) oneDNN's kernels corrupt training: with TorchSharp 0.107's libtorch, a tiny
/// teacher's loss became NaN within 2-8 iterations in 8 of 9 test runs, and distilling the MNIST model met NaN
/// gradients every few dozen iterations. Capped at AVX2 the training tests still failed 1 run in 2 (an exact-resume
/// test); at SSE4.1 they passed 5 runs of 5 (docs/MODEL-ABLATIONS.md). Slower convolutions on that CPU only; an
/// operator's own DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA wins.
/// oneDNN reads the variable once, at its first primitive, from the C environment: .NET's
/// Environment.SetEnvironmentVariable does not reach it, so it is set with libc's setenv when this assembly loads.
/// </summary>
public static class OneDnnIsa
{
    /// <summary>What oneDNN runs at in this process, in words: the cap applied here, the operator's variable, or its default.</summary>
    public static string Setting
    {
        get
        {
            if (Applied is not null) return Applied;
            string? chosen = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");
            return chosen is null ? "uncapped" : $"{chosen} (set by the operator)";
        }
    }

    /// <summary>The cap, and where it was applied (null: not applied); for doctor-style reports and tests.</summary>
    public static string? Applied { get; private set; }

#pragma warning disable CA2255 // A module initializer in a library: the cap must precede the first convolution in any host.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux() || !IsZen5OrLater(TryRead("/proc/cpuinfo"))) return;
        if (Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null || Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is not null) return;
        if (SetEnvironment("DNNL_MAX_CPU_ISA", "SSE41", 0) == 0 && SetEnvironment("ONEDNN_MAX_CPU_ISA", "SSE41", 0) == 0)
            Applied = "SSE41 (AMD Zen 5 or later)";
    }

    /// <summary>/proc/cpuinfo's first processor: vendor AuthenticAMD and cpu family 26 (0x1A, Zen 5) or later.</summary>
    internal static bool IsZen5OrLater(string? cpuinfo)
    {
        if (cpuinfo is null) return false;
        string? vendor = null;
        int? family = null;
        foreach (var line in cpuinfo.Split('\n'))
        {
            var parts = line.Split(':', 2);
            if (parts.Length != 2) continue;
            var (key, value) = (parts[0].Trim(), parts[1].Trim());
            if (key == "vendor_id") vendor ??= value;
            else if (key == "cpu family" && int.TryParse(value, out int f)) family ??= f;
            if (vendor is not null && family is not null) break;
        }
        return vendor == "AuthenticAMD" && family >= 26;
    }

    static string? TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    static int SetEnvironment(string name, string value, int overwrite) =>
        SetEnv(System.Text.Encoding.UTF8.GetBytes(name + "\0"), System.Text.Encoding.UTF8.GetBytes(value + "\0"), overwrite);

    /// <summary>libc's setenv(name, value, overwrite) on NUL-terminated UTF-8 bytes.</summary>
    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(byte[] name, byte[] value, int overwrite);
}
