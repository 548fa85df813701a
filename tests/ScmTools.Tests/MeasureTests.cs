namespace ScmTools.Tests;

/// <summary>Rates keep at least 3 significant digits from 0.1 to 100,000 per second (issue 12: a GPU's images/s).</summary>
[Trait("Category", "Unit")]
public class MeasureTests
{
    [Theory]
    [InlineData(39_612.4, "39612")]
    [InlineData(6_734.49, "6734")]
    [InlineData(455.5, "456")]
    [InlineData(98.44, "98.4")]
    [InlineData(7.93, "7.93")]
    [InlineData(0.3101, "0.31")]
    public void Rate_keeps_three_significant_digits(double perSecond, string expected) => Assert.Equal(expected, Measure.Rate(perSecond));
}
