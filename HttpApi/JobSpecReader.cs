using Grains.Interfaces;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace HttpApi;

/// <summary>
/// Reads a <see cref="JobSpec"/> from a request body: JSON only, a size limit, then the cluster's one strict JSON
/// reader (<see cref="JobSpecJson"/>: no unknown or duplicate properties, no numbers in strings, enums by name).
/// Every problem names its field; range checks are left to the cluster's validator so that they stay in one place.
/// </summary>
public static class JobSpecReader
{
    public sealed record Outcome(JobSpec? Spec, IResult? Problem);

    public static async Task<Outcome> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType)) return new(null, Problems.UnsupportedMediaType());
        if (request.ContentLength > maxBytes) return new(null, Problems.TooLarge(maxBytes));
        byte[] body;
        try
        {
            body = await ReadLimitedAsync(request.Body, maxBytes, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(null, Problems.TooLarge(maxBytes)); // the server-wide limit (Kestrel's 30 MB) was hit first
        }
        catch (PayloadTooLarge)
        {
            return new(null, Problems.TooLarge(maxBytes));
        }

        var (spec, errors) = JobSpecJson.Read(body);
        return errors.Count > 0 ? new(null, Problems.Invalid(errors, "The job spec is invalid")) : new(spec, null);
    }

    /// <summary>
    /// application/json, in UTF-8 (the body is read as UTF-8). Stricter than HasJsonContentType, which also takes any
    /// "+json" type (application/merge-patch+json would be read as a whole spec) and ignores "charset=utf-16".
    /// </summary>
    internal static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) &&
        media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) &&
        (media.Charset.Length == 0 || HeaderUtilities.RemoveQuotes(media.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Counts what arrives, so chunked bodies (no Content-Length) are capped too. Lowering Kestrel's per-request
    /// limit instead would make Kestrel answer with its own empty 413 rather than our problem document.
    /// </summary>
    internal static async Task<byte[]> ReadLimitedAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw new PayloadTooLarge();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    internal sealed class PayloadTooLarge : Exception;
}
