using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HttpApi;

/// <summary>
/// Reads the small JSON bodies of the admin routes as strictly as job specs: application/json in UTF-8, bounded,
/// no unknown or duplicate properties, numbers as numbers; a problem names the field (or "body").
/// </summary>
public static class JsonBody
{
    static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        AllowDuplicateProperties = false,
        MaxDepth = 8,
    };

    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, long maxBytes, CancellationToken cancellationToken) where T : class
    {
        if (!JobSpecReader.IsJson(request.ContentType)) return (null, NotJson);
        var (body, tooLarge) = await ReadBoundedAsync(request, maxBytes, cancellationToken);
        return tooLarge is not null ? (null, tooLarge) : Parse<T>(body!);
    }

    /// <summary>
    /// As <see cref="ReadAsync{T}"/>, for a body that may be left out: none, or an empty one, gives <c>new T()</c>.
    /// Whether there is a body is read from the bytes themselves: an HTTP/2 request streams its body without
    /// Content-Length or Transfer-Encoding, so those headers cannot tell.
    /// </summary>
    public static async Task<(T? Value, IResult? Problem)> ReadOptionalAsync<T>(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
        where T : class, new()
    {
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false }) return (new T(), null);
        var (body, tooLarge) = await ReadBoundedAsync(request, maxBytes, cancellationToken);
        if (tooLarge is not null) return (null, tooLarge);
        if (body!.Length == 0) return (new T(), null);
        return JobSpecReader.IsJson(request.ContentType) ? Parse<T>(body) : (null, NotJson);
    }

    static IResult NotJson => Problems.UnsupportedMediaType("send the body as UTF-8 JSON with 'Content-Type: application/json'");

    /// <summary>The body's bytes, or 413 once it passes <paramref name="maxBytes"/> (by its Content-Length or while reading).</summary>
    static async Task<(byte[]? Body, IResult? TooLarge)> ReadBoundedAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes) return (null, Problems.TooLarge(maxBytes));
        try
        {
            return (await JobSpecReader.ReadLimitedAsync(request.Body, maxBytes, cancellationToken), null);
        }
        catch (JobSpecReader.PayloadTooLarge)
        {
            return (null, Problems.TooLarge(maxBytes));
        }
    }

    static (T? Value, IResult? Problem) Parse<T>(byte[] body) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, Strict) is { } value ? (value, null) : (null, Problems.Invalid("body", "must be a JSON object"));
        }
        catch (JsonException e)
        {
            // The path ("$.quota.maxRunningJobs") names the field; the message of an unknown property names it too.
            var field = e.Path is { Length: > 2 } path ? path[2..] : "body";
            return (null, Problems.Invalid(field, FirstSentence(e.Message)));
        }
    }

    /// <summary>System.Text.Json's messages end with "Path: ... | LineNumber: ..."; the field is already named.</summary>
    static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return Grains.Interfaces.JobSpecValidator.Echo(cut > 0 ? message[..cut] : message);
    }
}
