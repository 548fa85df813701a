using System.Text.Json;
using Scm.Checkpoints;
using Scm.Network;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// A resumable training run on disk: state/ holds the online weights, the EMA weights, the optimizer state
/// and progress.json; ema/ holds the EMA as a ready-to-serve checkpoint (card + safetensors), refreshed at
/// every save. Each iteration's randomness is seeded from (seed, iteration), so a resumed run continues
/// exactly as an uninterrupted one would.
/// </summary>
public sealed class RunState(string runDirectory)
{
    /// <summary>
    /// A further network of a run (e.g. sCD's target network, distribution matching's fake score), saved as
    /// state/{Name}.safetensors, with the optimizer that trains it, if any, as state/{Name}-optimizer.bin.
    /// </summary>
    public sealed record Auxiliary(string Name, ScmUNet Network, optim.Optimizer? Optimizer = null);

    public sealed record Progress(long Iteration, double WallClockSeconds, ulong Seed, string Objective);

    string StateDirectory => Path.Combine(runDirectory, "state");
    public string EmaCardPath => Path.Combine(runDirectory, "ema", "model.json");
    /// <summary>The EMA with the best 2-step validation FD of the run (written when a validation probe runs).</summary>
    public string BestCardPath => Path.Combine(runDirectory, "best", "model.json");
    /// <summary>The EMA at one validation point, kept so that any point of the curve can be judged again later (e.g. by `train t-mid`).</summary>
    public string SnapshotCardPath(long iteration) => Path.Combine(runDirectory, "snaps", iteration.ToString(System.Globalization.CultureInfo.InvariantCulture), "model.json");
    string ProgressPath => Path.Combine(StateDirectory, "progress.json");

    /// <summary>The saved progress, after recovering from an interrupted save; for the run's own trainer only.</summary>
    public Progress? TryReadProgress()
    {
        RecoverInterruptedSave();
        return PeekProgress();
    }

    /// <summary>
    /// The saved progress without touching the folder: for readers beside a run that may be training (a recovery from
    /// here could move the state directory under a save in progress).
    /// </summary>
    public Progress? PeekProgress() =>
        File.Exists(ProgressPath) ? JsonSerializer.Deserialize<Progress>(File.ReadAllText(ProgressPath)) : null;

    /// <summary>
    /// Loads the saved state. <paramref name="auxiliary"/> are further networks of the run; returns the names of those
    /// the saved state does not hold (a run saved before it had them), which the caller initialises. An auxiliary
    /// optimizer without saved state (a run saved before it was kept) starts with fresh moments.
    /// </summary>
    public IReadOnlyList<string> Restore(ScmUNet online, ScmUNet ema, optim.Optimizer optimizer, IReadOnlyList<Auxiliary> auxiliary)
    {
        online.load_safetensors(Path.Combine(StateDirectory, "online.safetensors"));
        ema.load_safetensors(Path.Combine(StateDirectory, "ema.safetensors"));
        LoadOptimizer(optimizer, Path.Combine(StateDirectory, "optimizer.bin"));
        var missing = new List<string>();
        foreach (var (name, network, auxiliaryOptimizer) in auxiliary)
        {
            string path = Path.Combine(StateDirectory, name + ".safetensors");
            if (!File.Exists(path))
            {
                missing.Add(name);
                continue;
            }
            network.load_safetensors(path);
            string optimizerPath = OptimizerPath(StateDirectory, name);
            if (auxiliaryOptimizer is not null && File.Exists(optimizerPath)) LoadOptimizer(auxiliaryOptimizer, optimizerPath);
        }
        return missing;
    }

    static string OptimizerPath(string directory, string name) => Path.Combine(directory, name + "-optimizer.bin");

    static void LoadOptimizer(optim.Optimizer optimizer, string path)
    {
        if (optimizer is TorchSharp.Modules.Adam adam) adam.load_state_dict(path);
    }

    static void SaveOptimizer(optim.Optimizer optimizer, string path)
    {
        if (optimizer is TorchSharp.Modules.Adam adam) adam.save_state_dict(path);
    }

    /// <summary>
    /// Saves a resumable state (weights in the training device's dtype) and <paramref name="servable"/>, the EMA as a
    /// float32 CPU network, as the ready-to-serve checkpoint ema/.
    /// </summary>
    public void Save(ScmUNet online, ScmUNet ema, ScmUNet servable, optim.Optimizer optimizer, Progress progress, ModelCard card,
        IReadOnlyList<Auxiliary> auxiliary)
    {
        // Write a complete new state directory, then swap it in: an interrupted save leaves the previous one.
        string fresh = StateDirectory + ".new", old = StateDirectory + ".old";
        if (Directory.Exists(fresh)) Directory.Delete(fresh, recursive: true);
        Directory.CreateDirectory(fresh);
        online.save_safetensors(Path.Combine(fresh, "online.safetensors"));
        ema.save_safetensors(Path.Combine(fresh, "ema.safetensors"));
        foreach (var (name, network, auxiliaryOptimizer) in auxiliary)
        {
            network.save_safetensors(Path.Combine(fresh, name + ".safetensors"));
            if (auxiliaryOptimizer is not null) SaveOptimizer(auxiliaryOptimizer, OptimizerPath(fresh, name));
        }
        SaveOptimizer(optimizer, Path.Combine(fresh, "optimizer.bin"));
        File.WriteAllText(Path.Combine(fresh, "progress.json"), JsonSerializer.Serialize(progress));
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(StateDirectory)) Directory.Move(StateDirectory, old);
        Directory.Move(fresh, StateDirectory);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        Checkpoint.Save(servable, card, EmaCardPath);
    }

    /// <summary>Recovers from a crash between the two directory moves of <see cref="Save"/>.</summary>
    void RecoverInterruptedSave()
    {
        string old = StateDirectory + ".old";
        if (!Directory.Exists(StateDirectory) && Directory.Exists(old)) Directory.Move(old, StateDirectory);
    }
}
