using Microsoft.Extensions.Logging;

namespace BlobStorage;

/// <summary>Builds the configured <see cref="IBlobStore"/> without a DI container (CLI tools, tests).</summary>
public static class BlobStoreFactory
{
    public static IBlobStore Create(BlobStorageOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.IsAzure)
        {
            return new AzureBlobStore(
                options.AzureConnectionString!,
                options.Container,
                options.Retry,
                loggerFactory?.CreateLogger<AzureBlobStore>());
        }

        return new LocalFolderBlobStore(options.LocalPath);
    }
}
