using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BlobStorage;

public static class BlobStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="IBlobStore"/> (and the bound <see cref="BlobStorageOptions"/>) from a
    /// configuration section, e.g. <c>services.AddBlobStore(configuration.GetSection("Blob"))</c>.
    /// The section is bound and validated here, so a bad setting stops start-up instead of the first write.
    /// </summary>
    public static IServiceCollection AddBlobStore(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);

        var options = new BlobStorageOptions();
        try
        {
            // A misspelt key ("Provder") would otherwise be ignored silently and the default used.
            section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new BlobStorageConfigurationException([$"Section \"{SectionPath(section)}\" could not be bound: {e.Message}"]);
        }

        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<IBlobStore>(provider => BlobStoreFactory.Create(options, provider.GetService<ILoggerFactory>()));
        return services;
    }

    private static string SectionPath(IConfiguration configuration) =>
        configuration is IConfigurationSection section ? section.Path : "(root)";
}
