using System.CommandLine;
using ApiClient;

namespace Scmctl;

/// <summary>
/// What every command shares: where the API is (--url, SCM_URL), the key (--key-file, SCM_API_KEY,
/// ~/.config/scm/credentials; never an argument, which would land in shell history and process listings), the call
/// deadline, and the one error path: a single line on stderr naming the cause and an exit code per cause
/// (<see cref="ExitCodes"/>); the stack trace only with --verbose. stdout carries the command's output only.
/// </summary>
public static class CliContext
{
    public const string UrlVariable = "SCM_URL";

    static readonly Option<string> Url = new("--url")
    {
        Description = $"The cluster's HTTP API (a silo or a load balancer in front of them). Env: {UrlVariable}; default {ScmApiClientOptions.DefaultUrl}.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url ? url : ScmApiClientOptions.DefaultUrl,
        Recursive = true,
    };
    static readonly Option<string?> KeyFile = new("--key-file")
    {
        Description = $"File holding the API key (default: env {Credentials.EnvironmentVariable}, then ~/.config/scm/credentials).", Recursive = true,
    };
    static readonly Option<double> Timeout = new("--timeout")
    {
        Description = "Deadline of each call in seconds, retries included.", DefaultValueFactory = _ => 30, Recursive = true,
    };
    static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Log retries and reconnects on stderr; show stack traces of errors.", Recursive = true,
    };

    public static IEnumerable<Option> GlobalOptions => [Url, KeyFile, Timeout, Verbose];

    public static ScmApiClientOptions ClientOptions(ParseResult r)
    {
        var url = r.GetValue(Url)!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new ArgumentException($"--url: not an absolute URL: {ScmApiException.Echo(url)}");
        var timeout = r.GetValue(Timeout);
        if (!double.IsFinite(timeout) || timeout <= 0 || timeout > 86_400) throw new ArgumentException($"--timeout: must be in (0, 86400] seconds, got {timeout}");
        return new ScmApiClientOptions
        {
            BaseAddress = uri, ApiKey = Credentials.Resolve(r.GetValue(KeyFile)), CallTimeout = TimeSpan.FromSeconds(timeout),
            Log = r.GetValue(Verbose) ? Console.Error : null,
        };
    }

    /// <summary>Runs a command against the API; every failure becomes one stderr line and its exit code.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "The action is a long lambda: it reads best last.")]
    public static async Task<int> Run(ParseResult r, CancellationToken ct, Func<ScmApiClient, Task<int>> action)
    {
        bool verbose = r.GetValue(Verbose);
        try
        {
            using var client = new ScmApiClient(ClientOptions(r));
            return await action(client);
        }
        catch (ScmApiException e)
        {
            return Fail(e.Message, e, verbose, ExitCodes.For(e.Kind));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted");
            return ExitCodes.Interrupted;
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message, e, verbose, ExitCodes.Usage);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"local file: {e.Message}", e, verbose, ExitCodes.Usage);
        }
        catch (Exception e)
        {
            return Fail($"unexpected {e.GetType().Name}: {e.Message} (--verbose shows where)", e, verbose, ExitCodes.Unexpected);
        }
    }

    /// <summary>For commands that need no API (admin-key): the same one-line errors.</summary>
    public static int RunOffline(ParseResult r, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            return Fail(e.Message, e, r.GetValue(Verbose), ExitCodes.Usage);
        }
    }

    static int Fail(string message, Exception e, bool verbose, int code)
    {
        Console.Error.WriteLine("error: " + OneLine(message));
        if (verbose) Console.Error.WriteLine(e);
        return code;
    }

    /// <summary>Messages may quote a server or a user; a line break in them must not forge a second line.</summary>
    public static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
