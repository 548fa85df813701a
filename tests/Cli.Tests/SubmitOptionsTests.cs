using System.CommandLine;
using Cli;
using Grains.Interfaces;

namespace Cli.Tests;

/// <summary>`scmctl submit` options, parsed without a cluster.</summary>
public sealed class SubmitOptionsTests
{
    static ParseResult Parse(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in ClusterCommands.Create()) root.Subcommands.Add(command);
        return root.Parse(args);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("ImageSet,Video")]
    [InlineData(" video")]
    [InlineData("Sculpture")]
    public void A_kind_that_is_not_exactly_a_name_is_refused(string kind)
    {
        var errors = Parse("submit", "--kind", kind).Errors;
        Assert.Contains(errors, e => e.Message.StartsWith("--kind: must be one of ImageSet, Video, got ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Video", JobKind.Video)]
    [InlineData("imageset", JobKind.ImageSet)]
    public void A_kind_is_taken_by_name_in_any_case(string kind, JobKind expected)
    {
        var result = Parse("submit", "--kind", kind);
        Assert.Empty(result.Errors);
        Assert.Equal(expected, result.GetValue<JobKind>("--kind"));
    }

    [Fact]
    public void A_refused_kind_is_echoed_bounded_and_escaped()
    {
        var error = Assert.Single(Parse("submit", "--kind", "x\n" + new string('y', 10_000)).Errors).Message;
        Assert.DoesNotContain('\n', error);
        Assert.True(error.Length < 200, error);
    }
}
