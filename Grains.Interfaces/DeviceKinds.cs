namespace Grains.Interfaces;

/// <summary>
/// What kind of device made a frame: its provenance. With the compute chunk it is what a frame's bits depend on
/// (frames are bit-identical for the same kind and chunk, not across kinds), and <see cref="Simulated"/> marks frames
/// that no model made (bench devices, "Devices:Simulated"): a job with such frames carries a warning everywhere.
/// </summary>
public static class DeviceKinds
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";
    public const string Simulated = "simulated";

    /// <summary>Device names of simulated devices start with this ("sim:0", "sim:1", ...).</summary>
    public const string SimulatedPrefix = "sim:";

    /// <summary>The kind of a device name: "cuda", "cuda:1" → cuda; "sim:N" → simulated; anything else → cpu.</summary>
    public static string Of(string device) =>
        device.StartsWith(Cuda, StringComparison.Ordinal) ? Cuda
        : device.StartsWith(SimulatedPrefix, StringComparison.Ordinal) ? Simulated
        : Cpu;
}
