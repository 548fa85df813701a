using Grains.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Silo;

namespace Cluster.Tests;

[Trait("Category", "Unit")]
public class SiloLoggingTests
{
    static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddSiloConsole(configuration));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Console_log_has_utc_timestamps_by_default()
    {
        using var provider = Build([]);
        Assert.Equal(ConsoleFormatterNames.Simple, provider.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        var simple = provider.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue;
        Assert.Equal(SiloLogging.TimestampFormat, simple.TimestampFormat);
        Assert.True(simple.UseUtcTimestamp);
    }

    [Fact]
    public void Json_format_is_an_option_and_an_unknown_format_is_a_configuration_error()
    {
        using var provider = Build(new() { ["Logging:Format"] = "Json" });
        Assert.Equal(ConsoleFormatterNames.Json, provider.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        var json = provider.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue;
        Assert.NotNull(json.TimestampFormat);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Format"] = "Xml" }).Build();
        Assert.Single(Grains.Interfaces.ValidatedOptions.ProblemsOf<SiloLogOptions>(configuration.GetSection(SiloLogOptions.Section)));
    }

    [Fact]
    public void Polly_information_lines_are_off_unless_configured()
    {
        using var quiet = Build([]);
        var polly = quiet.GetRequiredService<ILoggerFactory>().CreateLogger("Polly");
        Assert.False(polly.IsEnabled(LogLevel.Information));
        Assert.True(polly.IsEnabled(LogLevel.Warning));
        var configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Polly"] = "Debug" }).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddConfiguration(configured.GetSection("Logging")).AddSiloConsole(configured));
        using var withConfig = services.BuildServiceProvider();
        Assert.True(withConfig.GetRequiredService<ILoggerFactory>().CreateLogger("Polly").IsEnabled(LogLevel.Debug));
    }

    [Fact]
    public void A_failure_seen_by_many_awaiters_is_logged_once_with_a_short_message()
    {
        var log = new ListLogger();
        var redisLike = new TimeoutException("Timeout performing SET (5000ms), next: SET job, inst: 0, qu: 0\n  lots of diagnostics");
        for (int i = 0; i < 6; i++) log.Failure(redisLike, withStack: i > 0, "Job {Job}: storing failed", "j1");
        Assert.Single(log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Null(log.Entries.Single(e => e.Level == LogLevel.Warning).Exception); // the provider logged the stack
        Assert.Contains("Timeout performing SET (5000ms)", log.Entries[0].Message);
        Assert.DoesNotContain("diagnostics", log.Entries[0].Message);

        var other = new InvalidOperationException("ffmpeg failed");
        log.Failure(other, withStack: true, "Finalizing {Job} failed", "j1");
        Assert.Same(other, log.Entries.Last().Exception);
    }

    sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
