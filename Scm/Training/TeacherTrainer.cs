using Scm.Checkpoints;
using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// TrigFlow diffusion training (the teacher): minimise || sigma_data F(x_t / sigma_data, t) - v_t ||^2 with
/// v_t = dx_t/dt = cos(t) z - sin(t) x0, normalised by sigma_data^2. Labels are dropped with probability
/// LabelDropout so the teacher also learns the unconditional model (classifier-free guidance).
/// </summary>
public sealed class TeacherTrainer(TrainingOptions options, NetworkConfig config, MnistDigits data)
    : Trainer(options, config, data)
{
    protected override string Objective => "trigflow-diffusion";
    protected override string CardKind => ModelCard.DiffusionKind;

    protected override Tensor Loss(long iteration, Generator generator)
    {
        var (x0, labels) = Batch(generator);
        var t = SampleTime(generator);
        var z = Normal(x0.shape, generator) * TrigFlow.SigmaData;
        var xt = TrigFlow.Noise(x0, z, t);
        var tb = t.view(-1, 1, 1, 1);
        var target = tb.cos() * z - tb.sin() * x0;
        var prediction = TrigFlow.Velocity(Online, xt, t, labels, null);
        return (prediction - target).square().mean() / (TrigFlow.SigmaData * TrigFlow.SigmaData);
    }
}
