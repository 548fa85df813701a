using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ApiClient;

/// <summary>
/// Sends one API call with its deadline (<see cref="ScmApiClientOptions.CallTimeout"/>) and, for idempotent calls,
/// Polly retries: exponential backoff with jitter, a server's Retry-After honoured, every attempt bounded by
/// <see cref="ScmApiClientOptions.AttemptTimeout"/>, all within the deadline. Transient means: the connection failed
/// or was reset, the attempt timed out, or the answer was 408/502/503/504 (a silo that lost its cluster, or whose
/// call into a dying silo timed out), or a GET's 429 with Retry-After (the key's streams or downloads are all in use).
/// Everything else is the answer. A call that is not idempotent is retried only
/// when the connection could not be made (the request never left), so it never runs twice.
/// Failures come out as <see cref="ScmApiException"/> with a one-line message naming the cause.
/// </summary>
sealed class ApiTransport(HttpClient http, ScmApiClientOptions options)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public ScmApiClientOptions Options => options;

    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, bool idempotent, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.CallTimeout);
        var log = new CallLog();
        var pipeline = Pipeline(idempotent, log);
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(async token =>
            {
                log.Attempts++;
                using var message = request();
                return await http.SendAsync(message, completion, token);
            }, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ScmApiException(ApiErrorKind.Unavailable,
                $"no answer from {Endpoint} within {options.CallTimeout.TotalSeconds:0.#} s ({Plural(log.Attempts, "attempt")}); last: {log.LastCause ?? "still waiting"}")
            { Attempts = log.Attempts };
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException)
        {
            throw new ScmApiException(ApiErrorKind.Unavailable, $"cannot reach {Endpoint}: {Cause(e)}", inner: e) { Attempts = log.Attempts };
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            int status = (int)response.StatusCode;
            var kind = ScmApiException.KindOf(status);
            var message = ScmApiException.Describe(status, problem);
            if (kind == ApiErrorKind.Unavailable)
                message = $"the cluster is unavailable ({status}, {Plural(log.Attempts, "attempt")}): {message}";
            throw new ScmApiException(kind, message, status, problem) { Attempts = log.Attempts };
        }
    }

    string Endpoint => http.BaseAddress?.GetLeftPart(UriPartial.Authority) ?? "the API";

    sealed class CallLog
    {
        public int Attempts;
        public string? LastCause;
    }

    ResiliencePipeline<HttpResponseMessage> Pipeline(bool idempotent, CallLog log) => new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            // Bounded by the deadline, not by a count: the question is how long a user waits, not how often we ask.
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true, // many clients cut off by the same silo loss must not come back in lockstep
            Delay = options.RetryBaseDelay,
            MaxDelay = options.RetryMaxDelay,
            ShouldHandle = async args =>
            {
                switch (args.Outcome)
                {
                    case { Exception: HttpRequestException e }:
                        log.LastCause = Cause(e);
                        // A certificate the client does not trust stays untrusted: say so at once.
                        if (e.HttpRequestError == HttpRequestError.SecureConnectionError) return false;
                        return idempotent || e.HttpRequestError == HttpRequestError.ConnectionError;
                    case { Exception: TimeoutRejectedException }:
                        log.LastCause = $"no answer within {options.AttemptTimeout.TotalSeconds:0.#} s";
                        return idempotent;
                    case { Result: { } r } when idempotent && (IsTransient(r.StatusCode) || IsBusyRead(r)):
                        var problem = await ReadProblemAsync(r, args.Context.CancellationToken);
                        log.LastCause = $"{(int)r.StatusCode} {ScmApiException.Describe((int)r.StatusCode, problem)}";
                        return true;
                    default:
                        return false;
                }
            },
            // A 503's or 429's Retry-After is the server's estimate of when to ask again; never wait past MaxDelay.
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.Headers.RetryAfter?.Delta is { } after
                ? (TimeSpan?)(after < options.RetryMaxDelay ? after : options.RetryMaxDelay)
                : null),
            OnRetry = args =>
            {
                options.Log?.WriteLine($"retry {args.AttemptNumber + 1} in {args.RetryDelay.TotalSeconds:0.##} s: {log.LastCause}");
                return default;
            },
        })
        .AddTimeout(options.AttemptTimeout)
        .Build();

    static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.BadGateway
        or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// A read refused for the key's concurrent slots (429 with Retry-After on a GET: too many event streams or downloads in
    /// flight) clears when one of them ends. A 429 on a submit is a tenant quota: that is the answer, not retried.
    /// </summary>
    static bool IsBusyRead(HttpResponseMessage response) => response.StatusCode == HttpStatusCode.TooManyRequests
        && response.RequestMessage?.Method == HttpMethod.Get && response.Headers.RetryAfter is not null;

    static string Cause(Exception e) => e switch
    {
        HttpRequestException { InnerException: System.Net.Sockets.SocketException s } => s.Message,
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError, InnerException: { } tls } h =>
            $"{h.Message.Replace(", see inner exception.", "", StringComparison.Ordinal).TrimEnd('.')}: {tls.Message}",
        HttpRequestException { InnerException: IOException io } h => $"{h.Message} ({io.Message})",
        TimeoutRejectedException => "the attempt timed out",
        _ => e.Message,
    };

    static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";

    public static async Task<ProblemView?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType is not ("application/problem+json" or "application/json")) return null;
        try
        {
            return JsonSerializer.Deserialize<ProblemView>(await response.Content.ReadAsStringAsync(cancellationToken), Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? apiKey, HttpContent? content = null)
    {
        var message = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        if (!string.IsNullOrEmpty(apiKey)) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return message;
    }
}
