using System.Security.Cryptography;
using BlobStorage;
using Grains.Interfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using SkiaSharp;

namespace HttpApi;

/// <summary>
/// GET /v1/jobs/{id}/frames/{index}/thumbnail?size=N: a frame scaled down to at most N pixels a side, for the web
/// console's frame grid. It reads the job through the same API grain call as the frame download, so another tenant's
/// job is a 404 and a missing key a 401. A frame never changes once written, so the ETag is the frame's SHA-256 plus
/// the size, and a matching If-None-Match is answered 304 before any decoding.
/// </summary>
public static class ThumbnailEndpoint
{
    public const int MinSize = 16, MaxSize = 256, DefaultSize = 96;

    public static RouteGroupBuilder MapThumbnails(this RouteGroupBuilder jobs)
    {
        jobs.MapGet("/{id}/frames/{index:int}/thumbnail", Thumbnail).WithName("GetFrameThumbnail")
            .WithSummary("One rendered frame scaled down (PNG)")
            .WithDescription($"Query size: the longest side in pixels, {MinSize}-{MaxSize} (default {DefaultSize}); a frame already that small comes back as it is. " +
                "ETag: the frame's SHA-256 and the size; If-None-Match answers 304.")
            .Produces<Stream>(StatusCodes.Status200OK, "image/png").Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return jobs;
    }

    static async Task<IResult> Thumbnail(HttpContext http, ClusterApiCaller api, IBlobStore blobs, string id, int index, string? size)
    {
        var status = await api.Status(http, id);
        if (status is null) return Problems.JobNotFound(id);
        // Checked after authentication, like every other argument: an anonymous caller learns nothing.
        int side = DefaultSize;
        if (size is not null && (!int.TryParse(size, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out side)
                                 || side is < MinSize or > MaxSize))
            return Problems.Invalid("size", $"must be an integer in [{MinSize}, {MaxSize}], got {JobSpecValidator.Echo(size)}");
        if (index < 0 || index >= status.FramesTotal)
            return Problems.NotFound($"frame index {index} is outside job '{id}' (frames 0..{status.FramesTotal - 1})");
        var frame = await blobs.GetAsync(WorkItem.FrameBlob(status.BlobPrefix, index), http.RequestAborted);
        if (frame is null) return Problems.NotFound($"frame {index} of job '{id}' is not rendered yet ({status.FramesDone} of {status.FramesTotal} done)");

        var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(frame))}-{side}\"");
        // The answer depends on the key (another tenant's job of the same id is another frame): browsers may keep it,
        // shared caches must not, and every reuse is revalidated, which costs a 304.
        http.Response.Headers.CacheControl = "private, no-cache";
        http.Response.Headers.Vary = "Authorization, X-Api-Key";
        http.Response.Headers.ETag = etag.ToString();
        if (EntityTagHeaderValue.TryParseList(http.Request.Headers.IfNoneMatch, out var candidates) &&
            candidates.Any(c => c.Equals(EntityTagHeaderValue.Any) || c.Compare(etag, useStrongComparison: false)))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        return TypedResults.File(Scale(frame, side), "image/png");
    }

    /// <summary>The PNG scaled so that its longer side is at most <paramref name="side"/> pixels (smaller ones unchanged).</summary>
    public static byte[] Scale(byte[] png, int side)
    {
        using var source = SKBitmap.Decode(png) ?? throw new InvalidDataException("the stored frame is not a readable PNG");
        if (source.Width <= side && source.Height <= side) return png;
        double factor = (double)side / Math.Max(source.Width, source.Height);
        var info = new SKImageInfo(Math.Max(1, (int)Math.Round(source.Width * factor)), Math.Max(1, (int)Math.Round(source.Height * factor)),
            source.ColorType, SKAlphaType.Opaque);
        // Mipmaps average the pixels a large step skips, so thin strokes of a 512 px digit survive the reduction.
        using var scaled = source.Resize(info, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                           ?? throw new InvalidOperationException("SkiaSharp could not scale the frame");
        using var data = scaled.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
