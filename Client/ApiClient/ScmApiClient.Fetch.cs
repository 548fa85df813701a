using System.Security.Cryptography;
using System.Text.Json;

namespace ApiClient;

/// <summary>What <see cref="ScmApiClient.FetchAsync"/> did: files downloaded, files already present and intact.</summary>
public sealed record FetchResult(string Directory, int Downloaded, int Skipped, long BytesDownloaded);

/// <summary>
/// Downloading a completed job's outputs through the API: no blob-store credentials on the client, and the API's
/// tenant check applies to every file.
/// </summary>
public sealed partial class ScmApiClient
{
    /// <summary>
    /// Writes manifest.json, frames/NNNNNN.png and video.mp4 (when there is one) into <paramref name="directory"/>.
    /// Every file is checked against the manifest's SHA-256: one already there with the right hash is skipped (so an
    /// interrupted fetch resumes where it stopped), anything else is streamed to a ".part" file, hashed as it arrives,
    /// and moved into place only when it matches; a mismatch is downloaded once more, then reported
    /// (<see cref="ApiErrorKind.Integrity"/>). The manifest, written last, is checked against its ETag (its SHA-256).
    /// </summary>
    public async Task<FetchResult> FetchAsync(string jobId, string directory, CancellationToken cancellationToken = default)
    {
        var job = await GetJobAsync(jobId, cancellationToken)
                  ?? throw new ScmApiException(ApiErrorKind.NotFound, $"jobId: no job {ScmApiException.Echo(jobId)} (of your tenant)");
        if (job.State != JobState.Completed || job.Links.Manifest is null)
            throw new ScmApiException(ApiErrorKind.Conflict, $"job {ScmApiException.Echo(jobId)} is {job.State}; only a completed job can be fetched (its manifest lists every file)");

        var (manifestBytes, manifestTag) = await GetBytesAsync(job.Links.Manifest, cancellationToken);
        if (manifestTag is not null && manifestTag != Sha256Hex(manifestBytes))
            throw new ScmApiException(ApiErrorKind.Integrity, $"the manifest of job {ScmApiException.Echo(jobId)} does not match its ETag");
        var manifest = JsonSerializer.Deserialize<ManifestView>(manifestBytes, ApiTransport.Json)
                       ?? throw new ScmApiException(ApiErrorKind.Protocol, "an empty manifest");

        Directory.CreateDirectory(Path.Combine(directory, "frames"));
        var files = manifest.Frames
            .Select(f => (Path: Path.Combine(directory, "frames", $"{f.Index:D6}.png"), Url: $"{JobPath(jobId)}/frames/{f.Index}", f.Sha256))
            .ToList();
        if (manifest.Video is { } video) files.Add((Path.Combine(directory, "video.mp4"), $"{JobPath(jobId)}/video", video.Sha256));

        int downloaded = 0, skipped = 0;
        long bytes = 0;
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = options.DownloadParallelism, CancellationToken = cancellationToken },
            async (file, ct) =>
            {
                if (File.Exists(file.Path) && await Sha256HexAsync(file.Path, ct) == file.Sha256)
                {
                    Interlocked.Increment(ref skipped);
                    return;
                }
                Interlocked.Add(ref bytes, await DownloadVerifiedAsync(file.Url, file.Path, file.Sha256, ct));
                Interlocked.Increment(ref downloaded);
            });
        // Last, so that a directory with a manifest.json is a complete fetch.
        await File.WriteAllBytesAsync(Path.Combine(directory, "manifest.json"), manifestBytes, cancellationToken);
        return new FetchResult(directory, downloaded, skipped, bytes);
    }

    async Task<long> DownloadVerifiedAsync(string url, string path, string sha256, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            string actual;
            long length;
            try
            {
                (actual, length) = await DownloadAsync(url, path + ".part", cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or IOException && attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                options.Log?.WriteLine($"{url}: the download broke ({e.Message}); again");
                continue; // the body broke off after the headers came (the transport retries only up to the headers)
            }
            if (actual == sha256)
            {
                File.Move(path + ".part", path, overwrite: true);
                return length;
            }
            File.Delete(path + ".part");
            options.Log?.WriteLine($"{path}: SHA-256 {actual} instead of {sha256} (attempt {attempt})");
            if (attempt == 2)
                throw new ScmApiException(ApiErrorKind.Integrity, $"{url}: the file served does not match the manifest's SHA-256 (twice)");
        }
    }

    /// <summary>Streams the body to <paramref name="path"/>, hashing it on the way: no file is held in memory.</summary>
    async Task<(string Sha256, long Length)> DownloadAsync(string url, string path, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(() => Request(HttpMethod.Get, url), idempotent: true, cancellationToken,
            HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long length = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            length += read;
        }
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), length);
    }

    async Task<(byte[] Bytes, string? ETag)> GetBytesAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(() => Request(HttpMethod.Get, url), idempotent: true, cancellationToken);
        return (await response.Content.ReadAsByteArrayAsync(cancellationToken), response.Headers.ETag?.Tag.Trim('"'));
    }

    static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    static async Task<string> Sha256HexAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }
}
