using Microsoft.Extensions.Logging;

namespace Grains.Telemetry;

/// <summary>
/// Logs a failure once. One failed storage write reaches many awaiters (every caller that shared a coalesced write,
/// the heartbeat, the grain call's caller) and each used to log it with its full stack: 5-9 stacks for one Redis
/// blip. The first site logs it at Warning (with the stack unless told the provider already logged it); later sites
/// that see the same exception object log one Debug line.
/// </summary>
public static class FailureLog
{
    const string Marker = "Scm.FailureLogged";

    public static bool AlreadyLogged(Exception e) => e.Data.Contains(Marker);

    /// <summary>Marks the exception as logged, so that later sites log it at Debug only.</summary>
    public static void MarkLogged(Exception e)
    {
        try { e.Data[Marker] = true; }
        catch (Exception) { } // Data can be read-only on some exception types: then it may be logged twice, no worse
    }

    /// <summary>
    /// Warning with the exception the first time it is seen; Debug (message only) afterwards.
    /// <paramref name="withStack"/> false when the thrower already logged the stack (Orleans' storage providers do).
    /// </summary>
    public static void Failure(this ILogger logger, Exception e, bool withStack, string message, params object?[] args)
    {
        if (AlreadyLogged(e))
        {
            if (logger.IsEnabled(LogLevel.Debug)) logger.LogDebug(message + " (logged above: {Error})", [.. args, e.Message]);
            return;
        }
        MarkLogged(e);
        if (withStack) logger.LogWarning(e, message, args);
        else logger.LogWarning(message + ": {Error}", [.. args, FirstLine(e)]);
    }

    /// <summary>The exception's type and the first line of its message: a Redis timeout's message is ~2 KB of diagnostics.</summary>
    public static string FirstLine(Exception e)
    {
        var inner = e.InnerException is { } i && e.GetType().Name.Contains("Storage", StringComparison.Ordinal) ? i : e;
        var text = inner.Message;
        int cut = text.IndexOfAny(['\r', '\n', ',']);
        if (cut > 0) text = text[..cut];
        if (text.Length > 200) text = text[..200] + "...";
        return $"{inner.GetType().Name}: {text}";
    }
}
