using Grains.Interfaces;

namespace Grains.Workers;

/// <summary>
/// What a worker's device does with a group of compatible work items: one sampled batch of all their frames, timed
/// (the time a tenant is charged in device-seconds). Chosen once, at start-up, for the whole silo: the model on a torch
/// device (<see cref="TorchDeviceRunner"/>), or, for scale measurements only, a simulated device
/// (<see cref="SimulatedDevices"/>, Devices:Simulated). The worker grain never asks which one it has.
/// </summary>
public interface IDeviceRunner
{
    Task<SampledBatch> SampleAsync(string device, List<WorkItem> items, CancellationToken cancellationToken);
}
