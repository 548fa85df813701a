using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>Exponential moving average of a network's weights: ema = decay * ema + (1 - decay) * online.</summary>
public sealed class Ema(ScmUNet online, ScmUNet average, double decay)
{
    public void Update()
    {
        using var noGrad = no_grad();
        var target = average.state_dict();
        foreach (var (name, value) in online.state_dict())
        {
            if (value.is_floating_point()) target[name].lerp_(value, 1 - decay);
            else target[name].copy_(value);
        }
    }

    /// <summary>Copies every tensor of <paramref name="from"/> into the same-named one of <paramref name="to"/>, which may have more (a student's extra blocks).</summary>
    public static void Copy(ScmUNet from, ScmUNet to)
    {
        using var noGrad = no_grad();
        var target = to.state_dict();
        foreach (var (name, value) in from.state_dict()) target[name].copy_(value);
    }

    /// <summary>Whether two networks hold the same tensors by name and shape (so that <see cref="Copy"/> carries all of them).</summary>
    public static bool SameShapes(ScmUNet a, ScmUNet b)
    {
        var ours = a.state_dict().ToDictionary(p => p.Key, p => string.Join("x", p.Value.shape));
        var theirs = b.state_dict().ToDictionary(p => p.Key, p => string.Join("x", p.Value.shape));
        return ours.Count == theirs.Count && ours.All(p => theirs.TryGetValue(p.Key, out var shape) && shape == p.Value);
    }
}
