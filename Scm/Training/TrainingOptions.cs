namespace Scm.Training;

/// <summary>
/// Options shared by the teacher and the sCD trainers. Those that shape the model (rate, schedule, EMA, time proposal,
/// batch, iterations) are recorded in each checkpoint's model card; the execution ones (threads, device, intervals) are not.
/// </summary>
public sealed record TrainingOptions
{
    public required string RunDirectory { get; init; }
    public required string DataDirectory { get; init; }
    public long Iterations { get; init; } = 8000;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 5e-4;
    public double EmaDecay { get; init; } = 0.999;
    public ulong Seed { get; init; } = 1;
    public int CheckpointEvery { get; init; } = 250;
    /// <summary>Log-normal time proposal: t = atan(exp(tau) / sigma_data), tau ~ N(PMean, PStd^2).</summary>
    public double PMean { get; init; } = -0.8;
    public double PStd { get; init; } = 1.6;
    public double LabelDropout { get; init; } = 0.1;
    public double GradientClip { get; init; } = 1.0;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public string Device { get; init; } = "cpu";
    /// <summary>Train in float64 (numerics checks; also exercises the dtype/device move of every parameter on a CPU).</summary>
    public bool Float64 { get; init; }
    /// <summary>Iterations between validation points (when the trainer is given a probe).</summary>
    public int EvaluateEvery { get; init; } = 250;
    /// <summary>
    /// Two-phase schedule: from this iteration on, train at <see cref="FineTuneLearningRate"/>, starting from the EMA
    /// weights (the online weights of a high-rate phase are a noisy walk around their average, which is the better
    /// starting point for a low-rate phase). Null: one phase at <see cref="LearningRate"/>.
    /// </summary>
    public long? FineTuneAt { get; init; }
    /// <summary>The learning rate of the second phase (<see cref="FineTuneAt"/>).</summary>
    public double FineTuneLearningRate { get; init; } = 1e-5;

    /// <summary>
    /// Annealing: the last phase's rate (the second phase's in a two-phase run) falls linearly to 0 at
    /// <see cref="Iterations"/>, so a run ends where its updates have died out instead of wherever a constant rate
    /// leaves it. The schedule is set by <see cref="Iterations"/>: resuming with another count changes it.
    /// </summary>
    public bool AnnealLearningRate { get; init; }

    /// <summary>The learning rate of <paramref name="iteration"/> (0-based) under the schedule.</summary>
    public double LearningRateAt(long iteration)
    {
        bool secondPhase = iteration >= FineTuneAt;
        double rate = secondPhase ? FineTuneLearningRate : LearningRate;
        if (!AnnealLearningRate || (FineTuneAt is not null && !secondPhase)) return rate;
        long start = secondPhase ? FineTuneAt!.Value : 0;
        return rate * (Iterations - iteration) / (Iterations - start);
    }

    /// <summary>What the model card records as hardware (default: core count and device).</summary>
    public string? Hardware { get; init; }

    public void Validate()
    {
        if (Iterations < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), $"--iterations must be >= 1; got {Iterations}.");
        if (BatchSize is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"--batch-size must be in [1, 4096]; got {BatchSize}.");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"--lr must be a finite number > 0; got {LearningRate}.");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentOutOfRangeException(nameof(EmaDecay), $"--ema-decay must be in [0, 1); got {EmaDecay}.");
        if (CheckpointEvery < 1) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), $"--checkpoint-every must be >= 1; got {CheckpointEvery}.");
        if (!double.IsFinite(PMean)) throw new ArgumentOutOfRangeException(nameof(PMean), $"--p-mean must be a finite number; got {PMean}.");
        if (!(PStd > 0 && double.IsFinite(PStd))) throw new ArgumentOutOfRangeException(nameof(PStd), $"--p-std must be a finite number > 0; got {PStd}.");
        if (!(LabelDropout >= 0 && LabelDropout <= 1)) throw new ArgumentOutOfRangeException(nameof(LabelDropout), $"label dropout must be in [0, 1]; got {LabelDropout}.");
        if (EvaluateEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvaluateEvery), $"--evaluate-every must be >= 1; got {EvaluateEvery}.");
        if (FineTuneAt is < 1) throw new ArgumentOutOfRangeException(nameof(FineTuneAt), $"--fine-tune-at must be >= 1; got {FineTuneAt}.");
        if (!(FineTuneLearningRate > 0 && double.IsFinite(FineTuneLearningRate)))
            throw new ArgumentOutOfRangeException(nameof(FineTuneLearningRate), $"--fine-tune-lr must be a finite number > 0; got {FineTuneLearningRate}.");
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), $"--threads must be >= 1; got {Threads}.");
    }
}
