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

    /// <summary>"auto" = cuda:0..n-1 when CUDA devices exist, else one "cpu"; otherwise a comma-separated list.</summary>
    public static IReadOnlyList<string> Resolve(string setting, Func<int> cudaDeviceCount)
    {
        var trimmed = setting.Trim();
        if (trimmed.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            int count = cudaDeviceCount();
            return count > 0 ? Enumerable.Range(0, count).Select(i => $"cuda:{i}").ToArray() : ["cpu"];
        }
        var devices = trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var device in devices)
            if (!IsValid(device))
                throw new ConfigurationException([$"Devices:Devices: '{device}' is not a device; use 'cpu', 'cuda' or 'cuda:N'"]);
        if (devices.Distinct().Count() != devices.Length)
            throw new ConfigurationException([$"Devices:Devices lists a device twice: '{setting}'"]);
        return devices;
    }

    static bool IsValid(string device) =>
        device is "cpu" or "cuda" || (device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device[5..], out var n) && n >= 0);
}
