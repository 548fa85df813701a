namespace BlobStorage;

/// <summary>Invalid <see cref="BlobStorageOptions"/>; the message lists every problem, each naming its field.</summary>
public sealed class BlobStorageConfigurationException : InvalidOperationException
{
    public BlobStorageConfigurationException(IReadOnlyList<string> problems)
        : base("Invalid blob storage configuration: " + string.Join(" ", problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
