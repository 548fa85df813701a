using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// Skips optimizer steps whose gradient is not finite, and stops a run whose gradients stay that way.
/// Why: on an AMD Zen 5 CPU, before oneDNN was capped at SSE4.1 there (<see cref="OneDnnIsa"/>), the backward pass of a finite loss
/// now and then yielded NaN gradients in every layer but the output convolution. clip_grad_norm_ then turns every weight
/// into NaN, and the run is lost although its loss never was. Mixed-precision training meets the same event (an
/// overflowing gradient) with the same answer: leave the weights as they are and go on with the next batch.
/// </summary>
public sealed class GradientGuard(string objective, string runDirectory)
{
    /// <summary>Steps skipped in a row after which the run stops: a persistent fault, not a rare event.</summary>
    public const int MaxSkippedInARow = 8;

    long skipped;
    int inARow;

    /// <summary>
    /// Clips the gradients of <paramref name="parameters"/> to norm <paramref name="maxNorm"/>; false (and the gradients
    /// zeroed) where their norm is not finite, in which case the caller must not step.
    /// </summary>
    public static bool ClipOrSkip(IEnumerable<Parameter> parameters, double maxNorm)
    {
        var list = parameters.ToList();
        double norm = nn.utils.clip_grad_norm_(list, maxNorm);
        if (double.IsFinite(norm)) return true;
        foreach (var p in list) p.grad?.zero_();
        return false;
    }

    /// <summary>Records a skipped step at <paramref name="iteration"/>; throws after <see cref="MaxSkippedInARow"/> in a row.</summary>
    public long Skipped(long iteration)
    {
        skipped++;
        if (++inARow >= MaxSkippedInARow)
            throw new InvalidOperationException(
                $"{objective}: the gradient was not finite in {MaxSkippedInARow} iterations in a row (the last {iteration}); last good checkpoint is in {runDirectory}.");
        return skipped;
    }

    /// <summary>Records a finite step (ends a run of skipped ones).</summary>
    public void Stepped() => inARow = 0;
}
