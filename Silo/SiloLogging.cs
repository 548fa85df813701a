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

    public static IReadOnlyList<string> Validate(IConfiguration configuration) =>
        configuration["Logging:Format"] is null or "Simple" or "Json"
            ? []
            : [$"Logging:Format must be Simple or Json, not '{configuration["Logging:Format"]}'."];

    public static ILoggingBuilder AddSiloConsole(this ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.ClearProviders();
        if (configuration["Logging:Format"] == "Json")
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
                o.SingleLine = configuration.GetValue("Logging:SingleLine", false);
            });
        }
        // Bound after the code defaults above, so Logging:Console:FormatterOptions:* still overrides them.
        logging.Services.Configure<SimpleConsoleFormatterOptions>(configuration.GetSection("Logging:Console:FormatterOptions"));
        logging.Services.Configure<JsonConsoleFormatterOptions>(configuration.GetSection("Logging:Console:FormatterOptions"));
        if (configuration["Logging:LogLevel:Polly"] is null) logging.AddFilter("Polly", LogLevel.Warning);
        return logging;
    }
}
