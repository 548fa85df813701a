using ScmTools;

namespace ScmTools.Tests;

/// <summary>The statistics docs/QUALITY.md states about several noise seeds.</summary>
public sealed class QualityReportTests
{
    static QualityReport Report(double[] student, double[] teacher)
    {
        var scm2 = new QualityRow("sCM 2-step", "2", 0.98, student[0], 0.01);
        var teacher63 = new QualityRow("Teacher 63", "63", 0.96, teacher[0], 1.0);
        SeedSpread Spread(QualityRow row, double[] fds) => SeedSpread.Of(row.Sampler, fds.Select(fd => (0.9, fd)).ToList());
        return new QualityReport
        {
            CommandLine = "eval", Machine = "test", Date = DateTimeOffset.UnixEpoch, Samples = 20, BatchSize = 10, Seed = 2024, ClassifierAccuracy = 0.99,
            HeldOutCount = 20, ClassifierDescription = "test", Checkpoints = [], Rows = [scm2, teacher63], ScmOneStep = scm2, ScmTwoStep = scm2,
            Teacher63 = teacher63, NoiseSeeds = student.Length, Spread = [Spread(scm2, student), Spread(teacher63, teacher)],
        };
    }

    /// <summary>The 2026-12-02 figures (docs/MODEL.md): ratio of means 1.03, paired difference +0.017 +- 0.043.</summary>
    [Fact]
    public void Ratio_of_means_and_paired_difference_over_five_seeds()
    {
        var report = Report([0.738, 0.594, 0.752, 0.689, 0.606], [0.621, 0.645, 0.819, 0.561, 0.648]);

        Assert.Equal(0.6758 / 0.6588, report.MeanFdRatio(report.ScmTwoStep), 9);
        Assert.Equal(0.738 / 0.621, report.FdRatio(report.ScmTwoStep), 9);
        var (seeds, mean, standardError) = report.PairedFdDifference(report.ScmTwoStep)!.Value;
        Assert.Equal((5, 0.017, 0.04329), (seeds, Math.Round(mean, 6), Math.Round(standardError, 5)));
        Assert.Contains("its FD minus the teacher's: +0.017 +- 0.043 (standard error over 5 seeds)", report.ToMarkdown());
    }

    /// <summary>A teacher judged on fewer seeds pairs with the student's first ones; on one seed there is no spread to state.</summary>
    [Fact]
    public void Paired_difference_uses_the_shared_seeds_and_needs_two()
    {
        var two = Report([0.7, 0.6, 0.9], [0.6, 0.7]);
        Assert.Equal(2, two.PairedFdDifference(two.ScmTwoStep)!.Value.Seeds);
        Assert.Equal(0.0, two.PairedFdDifference(two.ScmTwoStep)!.Value.Mean, 9);
        var one = Report([0.7, 0.6], [0.6]);
        Assert.Null(one.PairedFdDifference(one.ScmTwoStep));
        Assert.DoesNotContain("standard error", one.ToMarkdown());
    }
}
