using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace BlobStorage.Tests;

[Trait("Category", "Unit")]
public sealed class BlobStorageOptionsTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture azurite;
    private readonly TemporaryFolder folder = new();

    public BlobStorageOptionsTests(AzuriteFixture azurite)
    {
        this.azurite = azurite;
    }

    [Fact]
    public void Defaults_are_a_local_folder_under_out_blobs_and_valid()
    {
        var options = new BlobStorageOptions();

        Assert.Equal("Local", options.Provider);
        Assert.Equal("out/blobs", options.LocalPath);
        Assert.Equal("scm", options.Container);
        options.Validate();
    }

    [Fact]
    public void The_default_retry_budget_rides_out_a_ten_second_outage()
    {
        var retry = new BlobRetryOptions();

        Assert.True(retry.RetryBudget >= TimeSpan.FromSeconds(15));
        Assert.True(retry.MaxDelay <= TimeSpan.FromSeconds(5), "a long last backoff would leave the store idle well after the outage ended");
    }

    [Theory]
    [InlineData("Gcs", null, "scm", "Provider")]
    [InlineData("Azure", null, "scm", "AzureConnectionString is required")]
    [InlineData("Azure", "not a connection string", "scm", "AzureConnectionString is not a valid")]
    [InlineData("Azure", "UseDevelopmentStorage=true", "Upper", "Container \"Upper\"")]
    [InlineData("Azure", "UseDevelopmentStorage=true", "ab", "Container \"ab\"")]
    [InlineData("Azure", "UseDevelopmentStorage=true", "a--b", "Container \"a--b\"")]
    public void Invalid_settings_fail_naming_the_field(string provider, string? connectionString, string container, string expected)
    {
        var options = new BlobStorageOptions { Provider = provider, AzureConnectionString = connectionString, Container = container };

        var error = Assert.Throws<BlobStorageConfigurationException>(options.Validate);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_bad_connection_string_is_not_echoed_because_it_may_hold_the_account_key()
    {
        var options = new BlobStorageOptions { Provider = "Azure", AzureConnectionString = "AccountKey=SECRET-KEY;garbage" };

        var error = Assert.Throws<BlobStorageConfigurationException>(options.Validate);
        Assert.DoesNotContain("SECRET-KEY", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var options = new BlobStorageOptions
        {
            Provider = "azure",
            Container = "x",
            Retry = new BlobRetryOptions { BaseDelay = TimeSpan.Zero, SdkMaxRetries = 50 },
        };

        var error = Assert.Throws<BlobStorageConfigurationException>(options.Validate);
        Assert.Contains(error.Problems, p => p.StartsWith("AzureConnectionString", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Container", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Retry:BaseDelay", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Retry:SdkMaxRetries", StringComparison.Ordinal));
    }

    [Fact]
    public void The_factory_builds_the_configured_store()
    {
        var local = BlobStoreFactory.Create(new BlobStorageOptions { LocalPath = folder.Path });
        var azure = BlobStoreFactory.Create(new BlobStorageOptions
        {
            Provider = "Azure",
            AzureConnectionString = azurite.ConnectionString,
            Container = "factory-test",
        });

        Assert.IsType<LocalFolderBlobStore>(local);
        Assert.IsType<AzureBlobStore>(azure);
        Assert.EndsWith("/factory-test", azure.Location);
    }

    [Fact]
    public async Task AddBlobStore_binds_a_section_and_registers_a_working_azure_store()
    {
        var container = azurite.NewContainerName("di");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BlobStorage:Provider"] = "Azure",
            ["BlobStorage:AzureConnectionString"] = azurite.ConnectionString,
            ["BlobStorage:Container"] = container,
            ["BlobStorage:Retry:RetryBudget"] = "00:00:12",
            ["BlobStorage:Retry:SdkMaxRetries"] = "1",
        }).Build();

        using var services = new ServiceCollection().AddBlobStore(configuration.GetSection("BlobStorage")).BuildServiceProvider();
        var store = services.GetRequiredService<IBlobStore>();
        await store.PutAsync("di/check.txt", "ok"u8.ToArray(), "text/plain");

        Assert.IsType<AzureBlobStore>(store);
        Assert.Same(store, services.GetRequiredService<IBlobStore>());
        Assert.Equal(TimeSpan.FromSeconds(12), services.GetRequiredService<BlobStorageOptions>().Retry.RetryBudget);
        Assert.Equal("ok"u8.ToArray(), await store.GetAsync("di/check.txt"));
    }

    [Fact]
    public void AddBlobStore_defaults_to_the_local_folder()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BlobStorage:LocalPath"] = folder.Path,
        }).Build();

        using var services = new ServiceCollection().AddBlobStore(configuration.GetSection("BlobStorage")).BuildServiceProvider();

        var store = Assert.IsType<LocalFolderBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.Equal(folder.Path, store.RootFolder);
    }

    [Fact]
    public void AddBlobStore_fails_at_registration_on_a_misspelt_or_invalid_setting()
    {
        var misspelt = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BlobStorage:Provder"] = "Azure",
        }).Build();
        var invalid = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BlobStorage:Provider"] = "Azure",
        }).Build();

        var misspeltError = Assert.Throws<BlobStorageConfigurationException>(
            () => new ServiceCollection().AddBlobStore(misspelt.GetSection("BlobStorage")));
        var invalidError = Assert.Throws<BlobStorageConfigurationException>(
            () => new ServiceCollection().AddBlobStore(invalid.GetSection("BlobStorage")));

        Assert.Contains("Provder", misspeltError.Message);
        Assert.Contains("BlobStorage", misspeltError.Message);
        Assert.Contains("AzureConnectionString is required", invalidError.Message);
    }

    public void Dispose() => folder.Dispose();
}
