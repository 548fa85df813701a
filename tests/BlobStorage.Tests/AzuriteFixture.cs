using Azure.Storage.Blobs;

namespace BlobStorage.Tests;

/// <summary>
/// Checks once per test class that Azurite answers. If it doesn't, every test of the class fails with instructions:
/// a silently skipped storage test would let a broken Azure store pass CI.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private readonly List<string> containersToDelete = [];

    public string ConnectionString { get; } = TestEnvironment.AzuriteConnectionString;

    public async Task InitializeAsync()
    {
        var options = new BlobClientOptions(AzureBlobStore.PinnedServiceVersion);
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        BlobServiceClient service;
        try
        {
            service = new BlobServiceClient(ConnectionString, options);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"{TestEnvironment.AzuriteConnectionVariable} is not a valid connection string. {TestEnvironment.HowToStartServices}", e);
        }

        try
        {
            await service.GetPropertiesAsync();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"Azurite is not reachable at {service.Uri} ({e.GetType().Name}: {e.Message}). {TestEnvironment.HowToStartServices}", e);
        }
    }

    /// <summary>A fresh container per test keeps tests independent even when they run in parallel.</summary>
    public string NewContainerName(string purpose)
    {
        var name = $"{purpose}-{Guid.NewGuid():N}";
        lock (containersToDelete)
        {
            containersToDelete.Add(name);
        }

        return name;
    }

    public async Task DisposeAsync()
    {
        var service = new BlobServiceClient(ConnectionString, new BlobClientOptions(AzureBlobStore.PinnedServiceVersion));
        foreach (var container in containersToDelete)
        {
            try
            {
                await service.GetBlobContainerClient(container).DeleteIfExistsAsync();
            }
            catch (Exception)
            {
                // Cleanup only: Azurite runs on temp storage that infra/services.sh removes on stop.
            }
        }
    }
}
