using Scm.Evaluation;
using Scm.Network;
using Scm.Training;
using static Scm.Tests.TestSupport;

namespace Scm.Tests;

public class NoisedDigitProbeTests(ITestOutputHelper output)
{
    /// <summary>
    /// Near t = 0 the consistency map returns its input (f = cos t x_t - sin t sigma_data F), so any network, even an
    /// untrained one, must reproduce the probe's digits there; at t_max an untrained one gives no digits. The result
    /// does not depend on how the digits are chunked through the network.
    /// </summary>
    [Fact]
    public void Noised_digit_probe_reproduces_the_digits_near_t_0_not_at_t_max_whatever_the_chunking()
    {
        var data = TrainingTests.Synthetic();
        var network = new ScmUNet(Tiny(numClasses: MnistDigits.Classes));
        var (classifier, _) = ClassifierTrainer.Train(data, TrainingTests.TinyClassifierConfig, new ClassifierTrainingOptions { Epochs = 10, BatchSize = 16 }, TextWriter.Null);
        classifier.eval();
        using var chunked = new NoisedDigitProbe(classifier, data, perClass: 2, computeBatch: 7);
        using var whole = new NoisedDigitProbe(classifier, data, perClass: 2);

        var nearZero = chunked.Measure(network, 1e-4);
        var atMax = chunked.Measure(network, TrigFlow.TMax);
        output.WriteLine($"digits {chunked.Digits}; t = 1e-4: {nearZero}; t_max: {atMax}");
        Assert.Equal(chunked.Digits.Accuracy, nearZero.Accuracy);
        Assert.True(Math.Abs(nearZero.FrechetDistance - chunked.Digits.FrechetDistance) < 1e-3 * Math.Max(1, chunked.Digits.FrechetDistance));
        Assert.True(atMax.FrechetDistance > 10 * chunked.Digits.FrechetDistance + 1e-2, $"t_max FD {atMax.FrechetDistance}");
        var (fromWhole, fromChunks) = (whole.Measure(network, 1.1), chunked.Measure(network, 1.1));
        Assert.Equal(fromWhole.Accuracy, fromChunks.Accuracy);
        Assert.Equal(fromWhole.FrechetDistance, fromChunks.FrechetDistance, 1e-5);
        Assert.True(network.training);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.6)]
    public void Noised_digit_probe_refuses_a_time_outside_trigflow(double t)
    {
        using var probe = new NoisedDigitProbe(TrainingTests.TinyClassifier(), TrainingTests.Synthetic(), perClass: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => probe.Measure(new ScmUNet(Tiny(numClasses: MnistDigits.Classes)), t));
        Assert.Contains("t must be in (0, 1.5645]", e.Message);
    }
}
