namespace BlobStorage.Tests;

/// <summary>The contract against a real Azurite (see <see cref="AzuriteFixture"/> for how it is found).</summary>
public sealed class AzureBlobStoreContractTests : BlobStoreContractTests, IClassFixture<AzuriteFixture>
{
    public AzureBlobStoreContractTests(AzuriteFixture azurite)
    {
        Store = new AzureBlobStore(azurite.ConnectionString, azurite.NewContainerName("contract"));
    }

    protected override IBlobStore Store { get; }
}
