using Scm.Evaluation;
using static TorchSharp.torch;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class FrechetDistanceTests
{
    static Tensor Matrix(double[,] values) => tensor(values);

    [Fact]
    public void Distance_of_a_feature_set_to_itself_is_zero()
    {
        manual_seed(1);
        using var x = randn(500, 32) * linspace(0.1, 3, 32) + 0.5;
        Assert.Equal(0, FrechetDistance.Compute(x, x), 8);
    }

    [Fact]
    public void Distance_is_symmetric()
    {
        manual_seed(2);
        using var a = randn(400, 16);
        using var mix = randn(16, 16);
        using var b = randn(300, 16).matmul(mix) * 0.5 + 1;
        double ab = FrechetDistance.Compute(a, b), ba = FrechetDistance.Compute(b, a);
        Assert.True(ab > 1);
        Assert.Equal(ab, ba, 8);
    }

    [Fact]
    public void Diagonal_Gaussians_match_the_closed_form()
    {
        // Commuting covariances: FD = |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
        double[] a = [1, 4, 0.25, 9], b = [4, 1, 0.25, 0];
        using var mu1 = tensor(new double[] { 0, 1, 2, 3 });
        using var mu2 = tensor(new double[] { 1, 1, 0, 3 });
        using var s1 = diag(tensor(a));
        using var s2 = diag(tensor(b));
        double expected = 1 + 4 + a.Zip(b, (x, y) => Math.Pow(Math.Sqrt(x) - Math.Sqrt(y), 2)).Sum();
        Assert.Equal(expected, FrechetDistance.FromStatistics(mu1, s1, mu2, s2), 10);

        // The same Gaussians in a rotated basis: FD is invariant under a common rotation. (b has a zero
        // variance: round-off of ~1e-16 on that eigenvalue becomes ~1e-8 after the square root, hence 6 digits.)
        manual_seed(3);
        var (q, _) = linalg.qr(randn(4, 4, dtype: float64));
        using var r1 = q.matmul(s1).matmul(q.t());
        using var r2 = q.matmul(s2).matmul(q.t());
        Assert.Equal(expected, FrechetDistance.FromStatistics(q.matmul(mu1), r1, q.matmul(mu2), r2), 6);
    }

    [Fact]
    public void Non_commuting_2x2_covariances_match_the_closed_form()
    {
        // For a 2x2 PSD matrix M, Tr sqrt(M) = sqrt(Tr M + 2 sqrt(det M)); with M = S1^1/2 S2 S1^1/2:
        // Tr M = Tr(S1 S2), det M = det S1 det S2.
        using var s1 = Matrix(new double[,] { { 2, 0.8 }, { 0.8, 1 } });
        using var s2 = Matrix(new double[,] { { 0.5, -0.3 }, { -0.3, 3 } });
        using var zero = zeros(2, dtype: float64);
        double trS1S2 = s1.matmul(s2).trace().item<double>();
        double det = linalg.det(s1).item<double>() * linalg.det(s2).item<double>();
        double expected = 3 + 3.5 - 2 * Math.Sqrt(trS1S2 + 2 * Math.Sqrt(det));
        Assert.Equal(expected, FrechetDistance.FromStatistics(zero, s1, zero, s2), 10);
    }

    [Fact]
    public void Samples_of_two_Gaussians_approach_the_analytic_distance()
    {
        // N(0, I) vs N(m, c^2 I) in d dimensions: FD = |m|^2 + d (1 - c)^2.
        manual_seed(4);
        const int d = 4;
        using var a = randn(40_000, d, dtype: float64);
        using var b = randn(40_000, d, dtype: float64) * 2 + 0.5;
        double expected = d * 0.25 + d * 1.0;
        Assert.InRange(FrechetDistance.Compute(a, b), expected * 0.97, expected * 1.03);
    }

    [Fact]
    public void Rejects_mismatched_shapes()
    {
        using var a = randn(10, 3);
        using var b = randn(10, 4);
        Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(a, b));
        using var one = randn(1, 3);
        Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(one, a));
    }
}
