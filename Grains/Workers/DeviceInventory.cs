using Grains.Options;
using Microsoft.Extensions.Options;

namespace Grains.Workers;

/// <summary>The torch devices this silo serves: one worker grain each.</summary>
public sealed class DeviceInventory
{
    public IReadOnlyList<string> Devices { get; }
    /// <summary>True when this silo serves simulated devices only (Devices:Simulated:Count > 0).</summary>
    public bool Simulated { get; }

    public DeviceInventory(IOptions<DeviceOptions> options)
    {
        // Simulated devices replace the real ones, so a simulation silo never touches torch.
        Simulated = options.Value.Simulated.Count > 0;
        Devices = Simulated
            ? SimulatedDevices.Names(options.Value.Simulated.Count)
            : Resolve(options.Value.Devices, () => TorchSharp.torch.cuda.is_available() ? TorchSharp.torch.cuda.device_count() : 0);
    }

    /// <summary>
    /// "auto" = cuda:0..n-1 when CUDA devices exist, else one "cpu"; otherwise the comma-separated list (checked by
    /// <see cref="DeviceOptions.Problems"/> before the silo starts).
    /// </summary>
    public static IReadOnlyList<string> Resolve(string setting, Func<int> cudaDeviceCount)
    {
        if (!setting.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return DeviceOptions.DeviceList(setting);
        int count = cudaDeviceCount();
        return count > 0 ? Enumerable.Range(0, count).Select(i => $"cuda:{i}").ToArray() : ["cpu"];
    }
}
