using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets (the FID formula, here in the MNIST
/// classifier's feature space):
///   FD = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2).
/// Everything runs in float64 with symmetric eigendecompositions: S1^1/2 from eigh(S1), and
/// Tr((S1^1/2 S2 S1^1/2)^1/2) as the sum of square roots of the eigenvalues of that symmetric PSD matrix.
/// This avoids the general matrix square root (sqrtm) whose complex round-off plagues FID code.
/// Tiny negative eigenvalues from round-off are clamped to zero before square roots.
/// </summary>
public static class FrechetDistance
{
    /// <summary>FD between feature sets [N1, D] and [N2, D] (any float dtype, any device).</summary>
    public static double Compute(Tensor features1, Tensor features2)
    {
        using var scope = NewDisposeScope();
        var (mu1, sigma1) = Statistics(features1);
        var (mu2, sigma2) = Statistics(features2);
        return FromStatistics(mu1, sigma1, mu2, sigma2);
    }

    /// <summary>Mean [D] and unbiased covariance [D, D] of features [N, D], as CPU float64.</summary>
    public static (Tensor Mean, Tensor Covariance) Statistics(Tensor features)
    {
        if (features.dim() != 2) throw new ArgumentException($"Features must be [N, D]; got [{string.Join(", ", features.shape)}].", nameof(features));
        if (features.shape[0] < 2) throw new ArgumentException("Need at least 2 feature vectors for a covariance.", nameof(features));
        using var scope = NewDisposeScope();
        var x = features.detach().cpu().to(float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().matmul(centred) / (x.shape[0] - 1);
        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>FD between N(mu1, sigma1) and N(mu2, sigma2).</summary>
    public static double FromStatistics(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2)
    {
        long d = mu1.shape[0];
        if (mu1.dim() != 1 || !mu2.shape.SequenceEqual(mu1.shape) || !sigma1.shape.SequenceEqual(new[] { d, d }) || !sigma2.shape.SequenceEqual(new[] { d, d }))
            throw new ArgumentException($"Shapes do not match: mu1 [{string.Join(", ", mu1.shape)}], sigma1 [{string.Join(", ", sigma1.shape)}], " +
                                        $"mu2 [{string.Join(", ", mu2.shape)}], sigma2 [{string.Join(", ", sigma2.shape)}].");
        using var scope = NewDisposeScope();
        var (m1, s1, m2, s2) = (mu1.cpu().to(float64), Symmetric(sigma1), mu2.cpu().to(float64), Symmetric(sigma2));
        double meanTerm = (m1 - m2).square().sum().item<double>();

        var (eigenvalues, eigenvectors) = linalg.eigh(s1);
        var sqrtS1 = (eigenvectors * eigenvalues.clamp_min(0).sqrt()).matmul(eigenvectors.t());
        var middle = Symmetric(sqrtS1.matmul(s2).matmul(sqrtS1));
        double traceSqrt = linalg.eigvalsh(middle).clamp_min(0).sqrt().sum().item<double>();

        return meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceSqrt;
    }

    /// <summary>(A + A^T) / 2 in float64: removes the asymmetry round-off leaves in products of symmetric matrices.</summary>
    static Tensor Symmetric(Tensor a)
    {
        var x = a.cpu().to(float64);
        return (x + x.t()) / 2;
    }
}
