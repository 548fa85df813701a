namespace Grains.Options;

/// <summary>
/// SIMULATION ONLY. Section "Devices:Simulated". When <see cref="Count"/> is above 0 the silo serves that many
/// simulated devices ("sim:0", "sim:1", ...) instead of its torch devices: their workers never run the model, they
/// wait <see cref="BatchDelay"/> + frames x <see cref="PerFrameDelay"/> per lease and store a labelled placeholder
/// PNG for every frame. Used to measure the cluster's own scaling on one machine (`scmctl bench scale`).
/// Off by default.
/// </summary>
public sealed class SimulatedDeviceOptions
{
    /// <summary>
    /// What a simulated device hands on: <see cref="SimulatedOutput.Placeholder"/> (one pre-encoded PNG for every frame,
    /// to measure the scheduler and coordinators) or <see cref="SimulatedOutput.Images"/> (model-shaped image tensors
    /// that go through the real PNG encoding, hashing, blob writes and reports: the host-side cost of a GPU node
    /// without a GPU, `scmctl bench host`).
    /// </summary>
    public SimulatedOutput Output { get; set; } = SimulatedOutput.Placeholder;
    /// <summary>Most simulated devices one silo may serve: far beyond any real node, low enough to catch typos.</summary>
    public const int MaxCount = 1024;

    /// <summary>Simulated devices on this silo; 0 (default) = none, the silo serves its real devices.</summary>
    public int Count { get; set; }
    /// <summary>Fixed cost of one simulated network batch.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Added cost per frame of the batch (0 = batch cost does not depend on its size).</summary>
    public TimeSpan PerFrameDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The simulated cost of a batch of <paramref name="frames"/> frames.</summary>
    public TimeSpan CostOf(int frames) => BatchDelay + PerFrameDelay * frames;

    /// <summary>Every problem, each naming its key (empty when valid).</summary>
    public IEnumerable<string> Problems(string section)
    {
        if (Count is < 0 or > MaxCount) yield return $"{section}:Count must be in [0, {MaxCount}], got {Count}";
        if (BatchDelay < TimeSpan.Zero || BatchDelay > TimeSpan.FromMinutes(10))
            yield return $"{section}:BatchDelay must be in [0, 00:10:00], got {BatchDelay}";
        if (PerFrameDelay < TimeSpan.Zero || PerFrameDelay > TimeSpan.FromSeconds(10))
            yield return $"{section}:PerFrameDelay must be in [0, 00:00:10], got {PerFrameDelay}";
        // A device that costs nothing would make throughput / ideal meaningless and spin the scheduler.
        if (Count > 0 && BatchDelay <= TimeSpan.Zero && PerFrameDelay <= TimeSpan.Zero)
            yield return $"{section}:BatchDelay or {section}:PerFrameDelay must be above 0 when {section}:Count > 0";
    }
}

/// <summary>What a simulated device produces (see <see cref="SimulatedDeviceOptions.Output"/>).</summary>
public enum SimulatedOutput { Placeholder, Images }
