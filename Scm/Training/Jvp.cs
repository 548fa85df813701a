using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// Jacobian-vector products without forward-mode AD, by the double-backward trick: for y = f(x) and a dummy
/// cotangent u, g(u) = J^T u is linear in u, so d/du &lt;g(u), v&gt; = J v. TorchSharp has no torch.func.jvp.
/// An error inside autograd.grad aborts the process natively, so shapes are checked first.
/// </summary>
public static class Jvp
{
    /// <summary>J v where y was computed from <paramref name="inputs"/> (which require grad). The graph of y is kept.</summary>
    public static Tensor Compute(Tensor y, IList<Tensor> inputs, IList<Tensor> tangents)
    {
        if (inputs.Count != tangents.Count) throw new ArgumentException("One tangent per input is required.");
        for (int i = 0; i < inputs.Count; i++)
        {
            if (!inputs[i].requires_grad) throw new ArgumentException($"Input {i} does not require grad.");
            if (!inputs[i].shape.SequenceEqual(tangents[i].shape))
                throw new ArgumentException($"Tangent {i} has shape [{string.Join(",", tangents[i].shape)}], input has [{string.Join(",", inputs[i].shape)}].");
        }
        var u = zeros_like(y).requires_grad_(true);
        var vjp = autograd.grad([y], inputs, [u], retain_graph: true, create_graph: true);
        return autograd.grad(vjp, [u], tangents, retain_graph: true, create_graph: false)[0];
    }
}
