using System.Runtime.CompilerServices;

namespace BlobStorage;

/// <summary>
/// Blobs as files under a root folder: "a/b/c.png" is stored at root/a/b/c.png.
/// Writes go to a staging file first and are renamed into place, so a reader (or a crash) never sees half a blob.
/// </summary>
/// <remarks>
/// Content types are not kept: files carry no metadata and nothing reads the type back through <see cref="IBlobStore"/>.
/// A folder cannot be a file at the same time, so "a/b" and "a/b/c" cannot both exist here (they can on Azure);
/// such a write fails with an <see cref="IOException"/>.
/// </remarks>
public sealed class LocalFolderBlobStore : IBlobStore
{
    /// <summary>
    /// Staging lives inside the root so the final rename stays on one file system (and thus atomic).
    /// Blob names cannot start with this segment: it is reserved here.
    /// </summary>
    public const string StagingFolderName = ".blobstore-staging";

    private static readonly TimeSpan StaleStagingFileAge = TimeSpan.FromHours(1);

    private readonly string root;
    private readonly string stagingFolder;

    public LocalFolderBlobStore(string rootFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootFolder);
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootFolder));
        stagingFolder = Path.Combine(root, StagingFolderName);
        Directory.CreateDirectory(stagingFolder);
        RemoveStaleStagingFiles();
    }

    public string RootFolder => root;

    public string Location => $"local folder {root}";

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        var target = ResolvePath(name);
        ArgumentNullException.ThrowIfNull(contentType);
        cancellationToken.ThrowIfCancellationRequested();

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var staging = Path.Combine(stagingFolder, $"{Guid.NewGuid():N}.tmp");
        try
        {
            var stream = new FileStream(staging, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                // Flushing to disk before the rename is what makes "the new content or the old, never a torn file"
                // hold across a power loss, not only across a process crash.
                stream.Flush(flushToDisk: true);
            }

            if (Directory.Exists(target))
            {
                throw new IOException($"Cannot write blob \"{name}\" in {Location}: a folder of that name holds other blobs.");
            }

            File.Move(staging, target, overwrite: true);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = ResolvePath(name);
        try
        {
            return Task.FromResult<Stream?>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            return Task.FromResult<Stream?>(null); // a folder of other blobs, as in GetAsync
        }
    }

    public async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = ResolvePath(name);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            // "a/b" is only a folder of other blobs here; on Azure there would be no blob "a/b" either.
            return null;
        }
    }

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = ResolvePath(name);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(File.Exists(path));
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobNames.ValidatePrefix(prefix);
        cancellationToken.ThrowIfCancellationRequested();

        // Directory enumeration is blocking I/O; keep it off the caller's thread (an Orleans grain scheduler, say).
        var names = await Task.Run(() => CollectNames(prefix, cancellationToken), cancellationToken).ConfigureAwait(false);
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = ResolvePath(name);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing to delete. Empty folders are left behind on purpose: removing them would race with a
            // concurrent PutAsync that has just created the folder and is about to rename its file into it.
        }

        return Task.CompletedTask;
    }

    private List<string> CollectNames(string prefix, CancellationToken cancellationToken)
    {
        // Only the folder named by the prefix's complete segments can hold matches; don't walk the whole tree.
        var lastSlash = prefix.LastIndexOf('/');
        var folderPart = lastSlash < 0 ? string.Empty : prefix[..lastSlash];
        var startFolder = folderPart.Length == 0 ? root : Path.Combine(root, folderPart.Replace('/', Path.DirectorySeparatorChar));

        var names = new List<string>();
        if (!Directory.Exists(startFolder))
        {
            return names;
        }

        var enumeration = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            // Unix treats dot-files as hidden, and the default would skip them; they are ordinary blobs here.
            AttributesToSkip = FileAttributes.None,
            IgnoreInaccessible = false,
        };

        var stagingPrefix = StagingFolderName + "/";
        foreach (var file in Directory.EnumerateFiles(startFolder, "*", enumeration))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal) && !name.StartsWith(stagingPrefix, StringComparison.Ordinal))
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private string ResolvePath(string name)
    {
        BlobNames.Validate(name);
        if (name == StagingFolderName || name.StartsWith(StagingFolderName + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Invalid blob name \"{name}\": the segment \"{StagingFolderName}\" is reserved by the local folder store for its temporary files.",
                nameof(name));
        }

        var path = Path.GetFullPath(Path.Combine(root, name.Replace('/', Path.DirectorySeparatorChar)));
        // The name rules already forbid '..', this guards against a future change of those rules.
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid blob name \"{name}\": it resolves outside {root}.", nameof(name));
        }

        return path;
    }

    /// <summary>Staging files are orphaned only by a crash mid-write; an hour is far longer than any write takes.</summary>
    private void RemoveStaleStagingFiles()
    {
        var cutoff = DateTime.UtcNow - StaleStagingFileAge;
        foreach (var file in Directory.EnumerateFiles(stagingFolder))
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff)
            {
                TryDelete(file);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover staging file is invisible to readers and removed by a later cleanup.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
