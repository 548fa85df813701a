namespace BlobStorage.Tests;

[Trait("Category", "Unit")]
public sealed class BlobNamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("frames/000001.png")]
    [InlineData("tenants/acme/jobs/j1/frames/000001.png")]
    [InlineData(".hidden")]
    [InlineData("a/.b/c")]
    [InlineData("v1.2/x..y")]
    [InlineData("space and ünïcødé 🎞")]
    public void Valid_names_pass(string name)
    {
        BlobNames.Validate(name);
        Assert.True(BlobNames.IsValid(name));
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("/a", "must not start with '/'")]
    [InlineData("..", "'..' segments")]
    [InlineData("a/../b", "'..' segments")]
    [InlineData("a/..", "'..' segments")]
    [InlineData("a/./b", "'.' segments")]
    [InlineData("a\\b", "backslash")]
    [InlineData("a\u0000b", "control characters")]
    [InlineData("a\nb", "control characters")]
    [InlineData("a\u007Fb", "control characters")]
    [InlineData("a//b", "empty segments")]
    [InlineData("a/", "end with '/'")]
    [InlineData("a./b", "must not end with '.'")]
    public void Invalid_names_fail_with_the_name_and_the_rule(string name, string rule)
    {
        var error = Assert.Throws<ArgumentException>(() => BlobNames.Validate(name));

        Assert.Contains(rule, error.Message);
        Assert.Contains("Invalid blob name", error.Message);
        Assert.Equal("name", error.ParamName);
        Assert.False(BlobNames.IsValid(name));
    }

    [Fact]
    public void A_lone_surrogate_is_rejected()
    {
        // Built at run time: attribute metadata cannot carry an unpaired surrogate unchanged.
        var name = "a" + (char)0xD800 + "b";

        var error = Assert.Throws<ArgumentException>(() => BlobNames.Validate(name));
        Assert.Contains("unpaired surrogate", error.Message);
    }

    [Fact]
    public void The_error_quotes_the_name_with_control_characters_escaped()
    {
        var error = Assert.Throws<ArgumentException>(() => BlobNames.Validate("jobs/a\u0001b.png"));

        Assert.Contains("\"jobs/a\\u0001b.png\"", error.Message);
    }

    [Fact]
    public void The_length_limit_is_1024_characters()
    {
        BlobNames.Validate(new string('a', 1024));

        var error = Assert.Throws<ArgumentException>(() => BlobNames.Validate(new string('a', 1025)));
        Assert.Contains("1025 characters long, the maximum is 1024", error.Message);
    }

    [Fact]
    public void A_null_name_is_an_argument_null_error()
    {
        Assert.Throws<ArgumentNullException>(() => BlobNames.Validate(null!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("frames/")]
    [InlineData("frames/00")]
    [InlineData("jobs/j1")]
    [InlineData("a/.")]
    [InlineData("a/..")]
    public void Prefixes_may_be_empty_end_with_a_slash_or_stop_mid_segment(string prefix)
    {
        BlobNames.ValidatePrefix(prefix);
    }

    [Theory]
    [InlineData("/frames", "must not start with '/'")]
    [InlineData("../", "'..' segments")]
    [InlineData("a/../", "'..' segments")]
    [InlineData("a//", "empty segments")]
    [InlineData("a\\b", "backslash")]
    public void Prefixes_that_could_leave_the_store_fail(string prefix, string rule)
    {
        var error = Assert.Throws<ArgumentException>(() => BlobNames.ValidatePrefix(prefix));

        Assert.Contains(rule, error.Message);
        Assert.Equal("prefix", error.ParamName);
    }
}
