using Grains.Interfaces;
using Microsoft.Extensions.Logging.Console;

namespace Silo;

/// <summary>
/// The silo's console log (section "Logging"): timestamps by default (UTC, ISO 8601, to the millisecond) because an
/// operator correlating a kill -9 with its consequences across three silos has nothing else to go by; with
/// <c>Logging:Format=Json</c> one JSON object a line for log shippers. Polly's per-attempt lines (Orleans' own
/// pipelines log two Information lines per grain placement, ~8 % of a busy silo's log) are kept at Warning unless
/// the configuration names the "Polly" category itself.
/// </summary>
public static class SiloLogging
{
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public static ILoggingBuilder AddSiloConsole(this ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.ClearProviders();
        var options = ValidatedOptions.Read<SiloLogOptions>(configuration.GetSection(SiloLogOptions.Section));
        if (options.Format == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = TimestampFormat.TrimEnd();
                o.UseUtcTimestamp = true;
                o.IncludeScopes = false;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.TimestampFormat = TimestampFormat;
                o.UseUtcTimestamp = true;
                o.SingleLine = options.SingleLine;
            });
        }
        // Bound after the code defaults above, so Logging:Console:FormatterOptions:* still overrides them.
        logging.Services.Configure<SimpleConsoleFormatterOptions>(configuration.GetSection("Logging:Console:FormatterOptions"));
        logging.Services.Configure<JsonConsoleFormatterOptions>(configuration.GetSection("Logging:Console:FormatterOptions"));
        if (configuration["Logging:LogLevel:Polly"] is null) logging.AddFilter("Polly", LogLevel.Warning);
        return logging;
    }
}

/// <summary>How the console log is written: plain lines (the default) or one JSON object a line.</summary>
public enum LogFormat { Simple, Json }

/// <summary>Our keys of section "Logging" (next to .NET's own LogLevel and Console keys).</summary>
public sealed class SiloLogOptions : IValidatedOptions
{
    public const string Section = "Logging";

    public LogFormat Format { get; set; } = LogFormat.Simple;
    /// <summary>Simple format only: each entry on one line (message and exception included).</summary>
    public bool SingleLine { get; set; }

    public IEnumerable<string> Problems() => [];
}
