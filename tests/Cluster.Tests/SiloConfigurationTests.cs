using Microsoft.Extensions.Configuration;
using Silo;

namespace Cluster.Tests;

/// <summary>The silo's start-up report: every problem of every section at once, each naming its key; exit 2, no stack trace.</summary>
public class SiloConfigurationTests
{
    static readonly Dictionary<string, string> Broken = new()
    {
        ["Limits:MaxFrames"] = "-5",
        ["Devices:Devices"] = "gpu0",
        ["Cluster:Storage"] = "Mongo",
        ["Scheduler:MaxAttempts"] = "0",
        ["Logging:Format"] = "Xml",
        ["HttpApi:RetryAfter"] = "00:00:00",
        ["Tenants:KeyCacheSeconds"] = "-1",
    };

    static readonly string[] Keys = [.. Broken.Keys];

    static IReadOnlyList<string> Problems(IDictionary<string, string> settings) => SiloConfiguration.Problems(
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Fact]
    public void Defaults_have_no_problems() => Assert.Empty(Problems(new Dictionary<string, string>()));

    [Fact]
    public void Every_broken_section_is_reported_at_once_naming_its_key()
    {
        var problems = Problems(Broken);
        Assert.All(Keys, key => Assert.Contains(problems, p => p.Contains(key, StringComparison.Ordinal)));
        Assert.Contains(problems, p => p.Contains("'gpu0' is not a device", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Mongo", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Devices:Devices", "cuda:0,cuda:0", "lists a device twice")]
    [InlineData("Devices:Devices", "cuda:-1", "is not a device")]
    [InlineData("Limits:MaxItemFrames", "0", "Limits:MaxItemFrames must be in [1, MaxFrames]")]
    [InlineData("Limits:MaxGuidance", "NaN", "Limits:MaxGuidance")]
    [InlineData("Cluster:Clustering", "Consul", "Cluster:Clustering")]
    [InlineData("Models:Registry:mnist-scm", "", "Models:Registry:mnist-scm")]
    [InlineData("Limits:MaxSteps", "many", "Limits:MaxSteps")]
    public void A_single_bad_value_is_named(string key, string value, string expected) =>
        Assert.Contains(Problems(new Dictionary<string, string> { [key] = value }), p => p.Contains(expected, StringComparison.Ordinal));

    [Fact]
    public async Task A_silo_process_with_a_broken_configuration_exits_2_listing_every_problem_without_a_stack_trace()
    {
        await using var silo = SiloProcess.Start("broken-config", Broken);
        Assert.Equal(2, await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var log = await File.ReadAllTextAsync(silo.LogPath);
        Assert.Contains("Invalid configuration", log);
        Assert.All(Keys, key => Assert.Contains(key, log));
        Assert.DoesNotContain("   at ", log);
        Assert.DoesNotContain("Unhandled", log);
    }
}

/// <summary>Settings renamed with "batch" → "item"/"lease": old keys keep working, with a warning naming the new key.</summary>
[Trait("Category", "Unit")]
public class RenamedSettingsTests
{
    [Fact]
    public void An_old_key_carries_its_value_to_the_new_key_with_a_warning_and_a_set_new_key_wins()
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Devices:MaxBatchFrames"] = "128", ["Limits:MaxBatchFrames"] = "64", ["Limits:MaxItemFrames"] = "32",
        });
        var warnings = Grains.Hosting.RenamedSettings.Apply(configuration);
        Assert.Equal("128", configuration["Devices:MaxLeaseFrames"]);
        Assert.Equal("32", configuration["Limits:MaxItemFrames"]);
        Assert.Contains(warnings, w => w.StartsWith("Devices:MaxBatchFrames is deprecated: use Devices:MaxLeaseFrames", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("Limits:MaxBatchFrames is deprecated and ignored", StringComparison.Ordinal));
        Assert.Equal(2, warnings.Count);
        Assert.Equal(128, Grains.Interfaces.ValidatedOptions.Read<Grains.Options.DeviceOptions>(configuration.GetSection("Devices")).MaxLeaseFrames);
    }
}
