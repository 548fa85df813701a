using System.Runtime.CompilerServices;
using BlobStorage;

namespace Cluster.Tests;

/// <summary>Temporary stand-in until BlobStorage's LocalFolderBlobStore lands.</summary>
public sealed class TempFolderBlobStore(string root) : IBlobStore
{
    public string Location => root;

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(tmp, content.ToArray(), cancellationToken);
        File.Move(tmp, path, true);
    }

    public async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(root, name);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken) : null;
    }

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(Path.Combine(root, name)));

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (!Directory.Exists(root)) yield break;
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Where(n => n.StartsWith(prefix) && !n.EndsWith(".tmp")).Order(StringComparer.Ordinal))
            yield return f;
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        File.Delete(Path.Combine(root, name));
        return Task.CompletedTask;
    }
}
