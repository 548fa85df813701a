using Grains.Interfaces;

namespace Cluster.Tests;

[Trait("Category", "Unit")]
public class ApiKeysTests
{
    [Fact]
    public void A_generated_key_parses_to_its_id_and_matches_only_its_own_salted_hash()
    {
        var (keyId, apiKey, salt, hash) = ApiKeys.Generate();
        Assert.Matches("^scm_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", apiKey);
        var (parsedId, secret) = ApiKeys.Parse(apiKey);
        Assert.Equal(keyId, parsedId);
        Assert.True(ApiKeys.Matches(salt, hash, secret));
        Assert.False(ApiKeys.Matches(salt, hash, secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')));
        var other = ApiKeys.Generate();
        Assert.NotEqual(Convert.ToHexString(ApiKeys.Hash(salt, secret)), Convert.ToHexString(ApiKeys.Hash(other.Salt, secret)));
        Assert.DoesNotContain(secret, ApiKeys.HashLine(keyId, salt, hash));
        var line = ApiKeys.ParseHashLine(ApiKeys.HashLine(keyId, salt, hash))!.Value;
        Assert.Equal(keyId, line.KeyId);
        Assert.Equal(hash, line.Hash);
    }

    [Theory]
    [InlineData(null, AuthProblem.MissingKey)]
    [InlineData("  ", AuthProblem.MissingKey)]
    [InlineData("hunter2", AuthProblem.MalformedKey)]
    [InlineData("scm_0123456789abcdef_", AuthProblem.MalformedKey)]
    [InlineData("scm_0123456789ABCDEF_secret", AuthProblem.MalformedKey)]
    [InlineData("scm_short_secret", AuthProblem.MalformedKey)]
    [InlineData("xyz_0123456789abcdef_secret", AuthProblem.MalformedKey)]
    public void Missing_or_malformed_keys_are_named(string? key, AuthProblem problem) =>
        Assert.Equal(problem, Assert.Throws<ApiAuthException>(() => ApiKeys.Parse(key)).Problem);
}
