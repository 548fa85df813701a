namespace BlobStorage.Tests;

/// <summary>What only the local folder store has: files on disk, staging, folder rules.</summary>
[Trait("Category", "Unit")]
public sealed class LocalFolderBlobStoreTests : IDisposable
{
    private readonly TemporaryFolder folder = new();

    [Fact]
    public async Task Blobs_are_files_under_the_root_in_folders_created_on_demand()
    {
        var store = new LocalFolderBlobStore(Path.Combine(folder.Path, "not", "yet", "there"));
        await store.PutAsync("jobs/j1/frames/000001.png", new byte[] { 1, 2, 3 }, "image/png");

        var file = Path.Combine(folder.Path, "not", "yet", "there", "jobs", "j1", "frames", "000001.png");
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(file));
        Assert.Contains(Path.Combine(folder.Path, "not", "yet", "there"), store.Location);
    }

    [Fact]
    public async Task Writes_leave_no_staging_files_behind_and_staging_is_never_listed()
    {
        var store = new LocalFolderBlobStore(folder.Path);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.PutAsync($"f/{i}.png", new byte[1000], "image/png")));

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(folder.Path, LocalFolderBlobStore.StagingFolderName)));
        var listed = await store.ListAsync("").ToListAsync();
        Assert.Equal(20, listed.Count);
        Assert.DoesNotContain(listed, name => name.StartsWith(LocalFolderBlobStore.StagingFolderName, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reader_sees_the_old_or_the_new_content_never_a_torn_one()
    {
        var store = new LocalFolderBlobStore(folder.Path);
        var old = Enumerable.Repeat((byte)1, 1 << 20).ToArray();
        var replacement = Enumerable.Repeat((byte)2, 1 << 20).ToArray();
        await store.PutAsync("video.mp4", old, "video/mp4");

        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested)
            {
                var seen = await store.GetAsync("video.mp4");
                Assert.NotNull(seen);
                Assert.True(seen.AsSpan().SequenceEqual(old) || seen.AsSpan().SequenceEqual(replacement), "read a torn blob");
                reads++;
            }

            return reads;
        });
        for (var i = 0; i < 20; i++)
        {
            await store.PutAsync("video.mp4", i % 2 == 0 ? replacement : old, "video/mp4");
        }

        await stop.CancelAsync();
        Assert.True(await reader > 0);
    }

    [Fact]
    public async Task Orphaned_staging_files_from_a_crash_are_cleaned_up_when_old()
    {
        var staging = Path.Combine(folder.Path, LocalFolderBlobStore.StagingFolderName);
        Directory.CreateDirectory(staging);
        var stale = Path.Combine(staging, "stale.tmp");
        var recent = Path.Combine(staging, "recent.tmp");
        await File.WriteAllBytesAsync(stale, [1]);
        await File.WriteAllBytesAsync(recent, [1]);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-1));

        _ = new LocalFolderBlobStore(folder.Path);

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(recent), "a recent staging file may belong to a write in progress in another process");
    }

    [Fact]
    public async Task The_staging_folder_name_is_reserved()
    {
        var store = new LocalFolderBlobStore(folder.Path);

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => store.PutAsync(LocalFolderBlobStore.StagingFolderName + "/x.tmp", new byte[1], "text/plain"));
        Assert.Contains("reserved", error.Message);
    }

    [Fact]
    public async Task A_blob_where_a_folder_of_blobs_is_fails_clearly()
    {
        var store = new LocalFolderBlobStore(folder.Path);
        await store.PutAsync("jobs/j1/manifest.json", new byte[1], "application/json");

        var error = await Assert.ThrowsAsync<IOException>(() => store.PutAsync("jobs/j1", new byte[1], "text/plain"));
        Assert.Contains("folder", error.Message);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(folder.Path, LocalFolderBlobStore.StagingFolderName)));
    }

    public void Dispose() => folder.Dispose();
}
