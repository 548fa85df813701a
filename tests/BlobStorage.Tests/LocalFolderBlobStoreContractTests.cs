namespace BlobStorage.Tests;

public sealed class LocalFolderBlobStoreContractTests : BlobStoreContractTests, IDisposable
{
    private readonly TemporaryFolder folder = new();

    public LocalFolderBlobStoreContractTests()
    {
        Store = new LocalFolderBlobStore(folder.Path);
    }

    protected override IBlobStore Store { get; }

    public void Dispose() => folder.Dispose();
}
