using Azure.Storage.Blobs;

namespace BlobStorage;

/// <summary>Which blob store to use and how; bound from a configuration section (the silo and the CLI use "Blob").</summary>
public sealed class BlobStorageOptions
{
    public const string LocalProvider = "Local";
    public const string AzureProvider = "Azure";

    /// <summary>"Local" (a folder, the default) or "Azure" (Azure Blob Storage or Azurite). Case-insensitive.</summary>
    public string Provider { get; set; } = LocalProvider;

    /// <summary>Root folder of the local store; a relative path is taken from the current directory.</summary>
    public string LocalPath { get; set; } = "out/blobs";

    /// <summary>Azure Storage connection string (required for "Azure"), e.g. "UseDevelopmentStorage=true".</summary>
    public string? AzureConnectionString { get; set; }

    /// <summary>Azure container; created on first use if missing.</summary>
    public string Container { get; set; } = "scm";

    public BlobRetryOptions Retry { get; set; } = new();

    public bool IsAzure => string.Equals(Provider, AzureProvider, StringComparison.OrdinalIgnoreCase);

    public bool IsLocal => string.Equals(Provider, LocalProvider, StringComparison.OrdinalIgnoreCase);

    /// <summary>Throws <see cref="BlobStorageConfigurationException"/> listing every invalid field.</summary>
    public void Validate()
    {
        var problems = FindProblems().ToList();
        if (problems.Count > 0)
        {
            throw new BlobStorageConfigurationException(problems);
        }
    }

    private IEnumerable<string> FindProblems()
    {
        if (!IsLocal && !IsAzure)
        {
            yield return $"Provider must be \"{LocalProvider}\" or \"{AzureProvider}\" (was \"{Provider}\").";
            yield break;
        }

        if (IsLocal && string.IsNullOrWhiteSpace(LocalPath))
        {
            yield return "LocalPath is required when Provider is \"Local\".";
        }

        if (IsAzure)
        {
            if (string.IsNullOrWhiteSpace(AzureConnectionString))
            {
                yield return "AzureConnectionString is required when Provider is \"Azure\".";
            }
            else if (DescribeConnectionStringProblem(AzureConnectionString) is { } connectionProblem)
            {
                yield return $"AzureConnectionString is not a valid Azure Storage connection string: {connectionProblem}";
            }

            if (DescribeContainerNameProblem(Container) is { } containerProblem)
            {
                yield return $"Container \"{Container}\" is not a valid Azure container name: {containerProblem}";
            }
        }

        foreach (var problem in (Retry ?? new BlobRetryOptions()).FindProblems("Retry:"))
        {
            yield return problem;
        }
    }

    private static string? DescribeConnectionStringProblem(string connectionString)
    {
        try
        {
            // Parses only, no I/O. The message is ours: the SDK's could quote the string, and with it the account key.
            _ = new BlobServiceClient(connectionString);
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return "it could not be parsed (expected \"Key=Value;...\" with AccountName/AccountKey/BlobEndpoint, or \"UseDevelopmentStorage=true\").";
        }
    }

    /// <summary>Azure's rules: 3-63 characters, lowercase letters, digits and single hyphens, starting and ending alphanumeric.</summary>
    private static string? DescribeContainerNameProblem(string? container)
    {
        if (string.IsNullOrEmpty(container))
        {
            return "it is required.";
        }

        if (container.Length is < 3 or > 63)
        {
            return $"it must be 3 to 63 characters long (is {container.Length}).";
        }

        foreach (var c in container)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return "only lowercase letters, digits and '-' are allowed.";
            }
        }

        if (container[0] == '-' || container[^1] == '-')
        {
            return "it must start and end with a letter or digit.";
        }

        if (container.Contains("--", StringComparison.Ordinal))
        {
            return "it must not contain consecutive hyphens.";
        }

        return null;
    }
}
