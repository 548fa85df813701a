using BlobStorage;
using Grains.Hosting;
using Grains.Interfaces;
using HttpApi;

namespace Silo;

/// <summary>
/// The silo's start-up report: every problem of every configuration section at once, each naming its key, checked
/// before the host is built (clustering, storage, ports and certificates shape it as it is built). The same checks run
/// again when the host starts (each section's ValidateOnStart), which is what protects hosts that skip this report.
/// </summary>
public static class SiloConfiguration
{
    public static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        var problems = new List<string>(GenerationClusterHosting.ConfigurationProblems(configuration));
        problems.AddRange(HttpApiExtensions.ConfigurationProblems(configuration));
        problems.AddRange(ValidatedOptions.ProblemsOf<SiloHttpOptions>(configuration.GetSection(SiloHttpOptions.Section)));
        problems.AddRange(ValidatedOptions.ProblemsOf<SiloMetricsOptions>(configuration.GetSection(SiloMetricsOptions.Section)));
        problems.AddRange(ValidatedOptions.ProblemsOf<SiloDashboardOptions>(configuration.GetSection(SiloDashboardOptions.Section)));
        problems.AddRange(ValidatedOptions.ProblemsOf<SiloLogOptions>(configuration.GetSection(SiloLogOptions.Section)));
        try
        {
            problems.AddRange(SiloDashboardOptions.From(configuration)
                .CredentialProblems(ValidatedOptions.Read<TenantOptions>(configuration.GetSection(TenantOptions.Section))));
        }
        catch (InvalidOperationException) { } // a value that does not convert is already in the list
        try { ValidatedOptions.Read<BlobStorageOptions>(configuration.GetSection("Blob")).Validate(); }
        catch (BlobStorageConfigurationException e) { problems.Add(e.Message); }
        catch (InvalidOperationException e) { problems.Add(e.Message); }
        return problems;
    }
}
