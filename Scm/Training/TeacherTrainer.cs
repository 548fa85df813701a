using Scm.Checkpoints;
using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// TrigFlow diffusion training (the teacher): minimise || sigma_data F(x_t / sigma_data, t) - v_t ||^2 with
/// v_t = dx_t/dt = cos(t) z - sin(t) x0, normalised by sigma_data^2. Labels are dropped with probability
/// LabelDropout so the teacher also learns the unconditional model (classifier-free guidance).
/// A fresh run starts from random weights, or from another teacher's weights (<paramref name="initializeFrom"/>):
/// the way to give a trained teacher another time embedding (its frequencies are not weights, so every tensor
/// still fits) at a fraction of the cost of training from scratch.
/// </summary>
public sealed class TeacherTrainer(TrainingOptions options, NetworkConfig config, MnistDigits data, string? initializeFrom = null)
    : Trainer(options, config, data)
{
    protected override string Objective => "trigflow-diffusion";
    protected override string CardKind => ModelCard.DiffusionKind;
    protected override string? InitializedFrom => initializeFrom;

    protected override void InitializeFreshRun()
    {
        if (initializeFrom is null) return;
        var (network, card) = Checkpoint.Load(initializeFrom, torch.device(Options.Device));
        using (network)
        {
            if (card.Kind != ModelCard.DiffusionKind)
                throw new ArgumentException($"{initializeFrom} is a '{card.Kind}' model; a teacher starts from a diffusion model.");
            if (!Ema.SameShapes(Online, network))
                throw new ArgumentException($"{initializeFrom} has another architecture than the one being trained (only the time embedding's frequencies may differ).");
            Place(network);
            Ema.Copy(network, Online);
        }
    }

    protected override Tensor Loss(long iteration, Generator generator)
    {
        var (x0, labels) = Batch(generator);
        var t = SampleTime(generator);
        var z = Normal(x0.shape, generator) * TrigFlow.SigmaData;
        return DiffusionLoss(Online, x0, z, t, labels);
    }

    /// <summary>
    /// The TrigFlow diffusion loss ||sigma_data F(x_t / sigma_data, t) - v_t||^2 / sigma_data^2 of <paramref name="network"/>
    /// on data <paramref name="x0"/>, noise <paramref name="z"/> (already scaled by sigma_data) and times <paramref name="t"/>
    /// ([B]); also what distribution matching's fake score learns on the student's samples.
    /// </summary>
    public static Tensor DiffusionLoss(ScmUNet network, Tensor x0, Tensor z, Tensor t, Tensor? labels)
    {
        var xt = TrigFlow.Noise(x0, z, t);
        var tb = t.view(-1, 1, 1, 1);
        var target = tb.cos() * z - tb.sin() * x0;
        var prediction = TrigFlow.Velocity(network, xt, t, labels, null);
        return (prediction - target).square().mean() / (TrigFlow.SigmaData * TrigFlow.SigmaData);
    }
}
