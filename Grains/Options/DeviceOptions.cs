namespace Grains.Options;

/// <summary>The devices this silo offers. Section "Devices".</summary>
public sealed class DeviceOptions
{
    public const string Section = "Devices";

    /// <summary>"auto" (every CUDA device, else one CPU worker), "cpu", or a list such as "cuda:0,cuda:1".</summary>
    public string Devices { get; set; } = "auto";
    /// <summary>Most frames a worker samples in one network batch (its lease size).</summary>
    public int MaxBatchFrames { get; set; } = 64;
    /// <summary>Torch intra-op threads for CPU workers (process-wide); 0 = all cores.</summary>
    public int CpuThreads { get; set; }
    /// <summary>Simulated devices for scale tests (off by default); when on, they replace <see cref="Devices"/>.</summary>
    public SimulatedDeviceOptions Simulated { get; set; } = new();

    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Devices)) errors.Add("Devices:Devices must be 'auto', 'cpu' or a list like 'cuda:0,cuda:1'");
        if (MaxBatchFrames is < 1 or > 4096) errors.Add($"Devices:MaxBatchFrames must be in [1, 4096], got {MaxBatchFrames}");
        if (CpuThreads < 0) errors.Add("Devices:CpuThreads must be >= 0");
        errors.AddRange(Simulated.Problems($"{Section}:Simulated"));
        if (errors.Count > 0) throw new ConfigurationException(errors);
    }
}
