using ApiClient;

namespace Cluster.Tests;

/// <summary>
/// `scmctl` writes issued keys to a file only its owner can read, from the first byte on: never into a file or a link
/// that someone else placed at that path.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CredentialsTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("credentials-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void A_key_file_is_owner_only_even_where_a_world_readable_file_stood()
    {
        string path = Path.Combine(directory, "sub", "key");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);

        Credentials.Write(path, "scm_0123456789abcdef_secret");

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal("scm_0123456789abcdef_secret", File.ReadAllText(path).Trim());
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left behind
    }

    [Fact]
    public void A_link_placed_at_the_path_is_replaced_not_written_through()
    {
        string elsewhere = Path.Combine(directory, "attacker-readable");
        File.WriteAllText(elsewhere, "");
        string path = Path.Combine(directory, "key");
        File.CreateSymbolicLink(path, elsewhere);

        Credentials.Write(path, "scm_0123456789abcdef_secret");

        Assert.Equal("", File.ReadAllText(elsewhere));
        Assert.Null(new FileInfo(path).LinkTarget);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
    }
}
