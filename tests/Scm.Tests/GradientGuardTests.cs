using Scm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>A step whose gradient is not finite leaves the weights as they are; a persistent fault stops the run.</summary>
public class GradientGuardTests
{
    /// <summary>A finite loss with a NaN gradient (sqrt at 0: 0 * inf), the event seen in training on Zen 5 CPUs.</summary>
    [Fact]
    public void A_nan_gradient_under_a_finite_loss_is_zeroed_and_the_step_refused()
    {
        using var layer = nn.Linear(3, 2);
        var before = layer.weight!.detach().clone();
        var loss = (layer.weight! - layer.weight!.detach()).sqrt().sum();
        Assert.True(double.IsFinite(loss.item<float>()));
        loss.backward();
        Assert.False(isfinite(layer.weight!.grad!).all().item<bool>());

        Assert.False(GradientGuard.ClipOrSkip(layer.parameters(), 1.0));
        Assert.Equal(0.0, layer.weight!.grad!.abs().sum().item<float>());
        Assert.Equal(0.0f, (layer.weight!.detach() - before).abs().max().item<float>()); // the guard never touches the weights
    }

    [Fact]
    public void A_finite_gradient_is_clipped_and_the_step_allowed()
    {
        using var layer = nn.Linear(3, 2);
        (layer.weight!.sum() * 1000 + layer.bias!.sum() * 1000).backward();

        Assert.True(GradientGuard.ClipOrSkip(layer.parameters(), 1.0));
        double norm = Math.Sqrt(layer.parameters().Sum(p => p.grad!.square().sum().item<float>()));
        Assert.InRange(norm, 0.99, 1.01);
    }

    [Fact]
    public void Skipped_steps_stop_the_run_only_when_they_come_in_a_row()
    {
        var guard = new GradientGuard("scd", "runs/x");
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < GradientGuard.MaxSkippedInARow - 1; i++) guard.Skipped(i);
            guard.Stepped();
        }
        for (int i = 0; i < GradientGuard.MaxSkippedInARow - 1; i++) guard.Skipped(i);
        var error = Assert.Throws<InvalidOperationException>(() => guard.Skipped(99));
        Assert.Contains("not finite in 8 iterations in a row", error.Message);
        Assert.Contains("runs/x", error.Message);
    }
}
