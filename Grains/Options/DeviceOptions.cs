namespace Grains.Options;

/// <summary>The devices this silo offers. Section "Devices".</summary>
public sealed class DeviceOptions
{
    public const string Section = "Devices";

    /// <summary>"auto" (every CUDA device, else one CPU worker), "cpu", or a list such as "cuda:0,cuda:1".</summary>
    public string Devices { get; set; } = "auto";
    /// <summary>
    /// Most frames per lease for every device kind; when set it overrides <see cref="DeviceKindOptions.LeaseFrames"/>
    /// of each kind (the setting from before leases were sized per kind).
    /// </summary>
    public int? MaxBatchFrames { get; set; }
    /// <summary>Work sizes of CPU workers (also simulated devices): small network batches keep latency low on a few cores.</summary>
    public DeviceKindOptions Cpu { get; set; } = new() { ComputeChunk = 8, LeaseFrames = 64 };
    /// <summary>
    /// Work sizes of CUDA workers: a GPU only reaches its throughput on network batches of hundreds of images
    /// (at chunk 8 an H200 sampled ~450 images/s; at 1,000 above 6,700).
    /// </summary>
    public DeviceKindOptions Cuda { get; set; } = new() { ComputeChunk = 512, LeaseFrames = 2048 };
    /// <summary>Threads that encode a lease's PNGs; 0 = all cores.</summary>
    public int EncodeThreads { get; set; }
    /// <summary>Torch intra-op threads for CPU workers (process-wide); 0 = all cores.</summary>
    public int CpuThreads { get; set; }
    /// <summary>Simulated devices for scale tests (off by default); when on, they replace <see cref="Devices"/>.</summary>
    public SimulatedDeviceOptions Simulated { get; set; } = new();

    /// <summary>The work sizes for a device name ("cuda", "cuda:1" -> CUDA; anything else -> CPU).</summary>
    public DeviceKindOptions KindOf(string device) => device.StartsWith("cuda", StringComparison.Ordinal) ? Cuda : Cpu;

    /// <summary>Frames a worker on <paramref name="device"/> asks for per lease.</summary>
    public int LeaseFramesFor(string device) => MaxBatchFrames ?? KindOf(device).LeaseFrames;

    public int EncodeParallelism => EncodeThreads > 0 ? EncodeThreads : Environment.ProcessorCount;

    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Devices)) errors.Add("Devices:Devices must be 'auto', 'cpu' or a list like 'cuda:0,cuda:1'");
        if (MaxBatchFrames is < 1 or > DeviceKindOptions.MaxLeaseFrames) errors.Add($"Devices:MaxBatchFrames must be in [1, {DeviceKindOptions.MaxLeaseFrames}], got {MaxBatchFrames}");
        errors.AddRange(Cpu.Problems($"{Section}:Cpu"));
        errors.AddRange(Cuda.Problems($"{Section}:Cuda"));
        if (EncodeThreads is < 0 or > 1024) errors.Add($"Devices:EncodeThreads must be in [0, 1024], got {EncodeThreads}");
        if (CpuThreads < 0) errors.Add("Devices:CpuThreads must be >= 0");
        errors.AddRange(Simulated.Problems($"{Section}:Simulated"));
        if (errors.Count > 0) throw new ConfigurationException(errors);
    }
}

/// <summary>
/// Work sizes of one device kind. Sections "Devices:Cpu" and "Devices:Cuda". A frame's bits depend on the device kind
/// and on <see cref="ComputeChunk"/> (the network always runs on chunks of exactly that many images), never on the
/// lease or job it was sampled in; the manifest records both for every frame.
/// </summary>
public sealed class DeviceKindOptions
{
    public const int MaxComputeChunk = 4096;
    public const int MaxLeaseFrames = 16384;

    /// <summary>Images per network call; a shorter last chunk is padded to this size.</summary>
    public int ComputeChunk { get; set; }
    /// <summary>Most frames a worker of this kind takes in one lease (sampled in one pass, chunk by chunk).</summary>
    public int LeaseFrames { get; set; }

    public IEnumerable<string> Problems(string section)
    {
        if (ComputeChunk is < 1 or > MaxComputeChunk) yield return $"{section}:ComputeChunk must be in [1, {MaxComputeChunk}], got {ComputeChunk}";
        if (LeaseFrames is < 1 or > MaxLeaseFrames) yield return $"{section}:LeaseFrames must be in [1, {MaxLeaseFrames}], got {LeaseFrames}";
    }
}
