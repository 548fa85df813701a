using Grains.Interfaces;
using Scm.Network;

namespace Grains.Options;

/// <summary>The devices this silo offers. Section "Devices".</summary>
public sealed class DeviceOptions : IValidatedOptions
{
    public const string Section = "Devices";

    /// <summary>"auto" (every CUDA device, else one CPU worker), "cpu", or a list such as "cuda:0,cuda:1".</summary>
    public string Devices { get; set; } = "auto";
    /// <summary>
    /// Most frames per lease for every device kind; when set it overrides <see cref="DeviceKindOptions.LeaseFrames"/>
    /// of each kind (the setting from before leases were sized per kind).
    /// </summary>
    public int? MaxLeaseFrames { get; set; }
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

    /// <summary>The work sizes for a device name ("cuda", "cuda:1" -> CUDA; anything else, simulated devices included -> CPU).</summary>
    public DeviceKindOptions KindOf(string device) => DeviceKinds.Of(device) == DeviceKinds.Cuda ? Cuda : Cpu;

    /// <summary>Frames a worker on <paramref name="device"/> asks for per lease.</summary>
    public int LeaseFramesFor(string device) => MaxLeaseFrames ?? KindOf(device).LeaseFrames;

    public int EncodeParallelism => EncodeThreads > 0 ? EncodeThreads : Environment.ProcessorCount;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Devices)) yield return "Devices:Devices must be 'auto', 'cpu' or a list like 'cuda:0,cuda:1'";
        else if (!Devices.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            var devices = DeviceList(Devices);
            foreach (var device in devices.Where(d => !IsDeviceName(d)))
                yield return $"Devices:Devices: '{device}' is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N' (a comma-separated list)";
            if (devices.Distinct().Count() != devices.Length) yield return $"Devices:Devices lists a device twice: '{Devices}'";
        }
        if (MaxLeaseFrames is < 1 or > DeviceKindOptions.MaxLeaseFrames) yield return $"Devices:MaxLeaseFrames must be in [1, {DeviceKindOptions.MaxLeaseFrames}], got {MaxLeaseFrames}";
        foreach (var problem in Cpu.Problems($"{Section}:Cpu").Concat(Cuda.Problems($"{Section}:Cuda"))) yield return problem;
        if (EncodeThreads is < 0 or > 1024) yield return $"Devices:EncodeThreads must be in [0, 1024], got {EncodeThreads}";
        if (CpuThreads is < 0 or > 1024) yield return $"Devices:CpuThreads must be in [0, 1024], got {CpuThreads}";
        foreach (var problem in Simulated.Problems($"{Section}:Simulated")) yield return problem;
    }

    /// <summary>The entries of a device list such as "cuda:0, cuda:1".</summary>
    public static string[] DeviceList(string setting) =>
        setting.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static bool IsDeviceName(string device) =>
        device is "cpu" or "cuda" || (device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device[5..], out var n) && n >= 0);
}

/// <summary>
/// Work sizes and precision of one device kind. Sections "Devices:Cpu" and "Devices:Cuda". A frame's bits depend on the
/// device kind, on <see cref="ComputeChunk"/> (the network always runs on chunks of exactly that many images) and on
/// <see cref="Precision"/>, never on the lease or job it was sampled in; the manifest records all three for every frame.
/// </summary>
public sealed class DeviceKindOptions
{
    public const int MaxComputeChunk = 4096;
    public const int MaxLeaseFrames = 16384;

    /// <summary>Images per network call; a shorter last chunk is padded to this size.</summary>
    public int ComputeChunk { get; set; }
    /// <summary>Most frames a worker of this kind takes in one lease (sampled in one pass, chunk by chunk).</summary>
    public int LeaseFrames { get; set; }
    /// <summary>
    /// The dtype the network runs in (Float32, BFloat16, Float16); the noise and the consistency function stay float32.
    /// 16-bit halves the memory traffic that bounds this small network on a GPU; on a CPU without 16-bit units it is
    /// much slower. `scm-tools eval --precision` measures what it does to quality before a node serves it.
    /// </summary>
    public NetworkPrecision Precision { get; set; } = NetworkPrecision.Float32;

    public IEnumerable<string> Problems(string section)
    {
        if (!Enum.IsDefined(Precision)) yield return $"{section}:Precision must be one of {string.Join(", ", Enum.GetNames<NetworkPrecision>())}, got {(int)Precision}";
        if (ComputeChunk is < 1 or > MaxComputeChunk) yield return $"{section}:ComputeChunk must be in [1, {MaxComputeChunk}], got {ComputeChunk}";
        if (LeaseFrames is < 1 or > MaxLeaseFrames) yield return $"{section}:LeaseFrames must be in [1, {MaxLeaseFrames}], got {LeaseFrames}";
    }
}
