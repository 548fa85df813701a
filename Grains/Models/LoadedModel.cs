using Scm.Checkpoints;
using Scm.Network;
using Scm.Sampling;

namespace Grains.Models;

/// <summary>A model resident on one device. <see cref="Gate"/> serialises batches on that device.</summary>
public sealed class LoadedModel(string id, string device, ScmUNet network, ModelCard card, ConsistencySampler sampler, NetworkPrecision precision,
    TimeSpan loadTime)
{
    /// <summary>The dtype the network runs in on this device (<see cref="Options.DeviceKindOptions.Precision"/>).</summary>
    public NetworkPrecision Precision => precision;
    public string Id => id;
    public string Device => device;
    public ScmUNet Network => network;
    public ModelCard Card => card;
    public ConsistencySampler Sampler => sampler;
    public TimeSpan LoadTime => loadTime;
    public SemaphoreSlim Gate { get; } = DeviceGates.For(device);
}
