namespace Scm.Tests;

/// <summary>The oneDNN SSE4.1 cap applies to AMD Zen 5 and later only (its kernels corrupted training there).</summary>
public class OneDnnIsaTests
{
    [Theory]
    [InlineData("AuthenticAMD", 26, true)] // Zen 5 (EPYC Turin): the machine where training broke
    [InlineData("AuthenticAMD", 27, true)]
    [InlineData("AuthenticAMD", 25, false)] // Zen 3 / Zen 4
    [InlineData("GenuineIntel", 6, false)]
    public void The_cap_is_for_zen5_and_later(string vendor, int family, bool expected)
    {
        string cpuinfo = $"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: 2\nmodel name\t: test\n\nprocessor\t: 1\nvendor_id\t: {vendor}\n";
        Assert.Equal(expected, OneDnnIsa.IsZen5OrLater(cpuinfo));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vendor_id : AuthenticAMD\ncpu family : twenty-six\n")]
    public void Unreadable_or_malformed_cpuinfo_applies_no_cap(string? cpuinfo) => Assert.False(OneDnnIsa.IsZen5OrLater(cpuinfo));

    /// <summary>On this machine: the cap is applied exactly where the CPU calls for it and the operator did not choose.</summary>
    [Fact]
    public void The_cap_follows_this_machines_cpu()
    {
        bool zen5 = OneDnnIsa.IsZen5OrLater(File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : null);
        bool chosen = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null || Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is not null;
        Assert.Equal(zen5 && !chosen, OneDnnIsa.Applied is not null);
    }
}
